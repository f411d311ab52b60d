"""Identity's side of auditor access to the audit log (UU PDP Art. 31, 46).

The audit package knows citizens only by keyed pseudonym and cannot import identity; what
an auditor or an operator holds is a NIK or an internal id. This module supplies the
pieces the audit adapters (``audit.http``, ``audit.cli``) are given:

- :class:`AuditorAuthorizer`: the audit API's ``authorize_auditor``: a Jati access token
  with scope ``audit:read`` that an auditor app obtained for itself (client credentials,
  RFC 6749 §4.4, so ``sub`` equals ``client_id``, RFC 9068 §2.2). A token issued on behalf
  of a citizen is refused even if it carries the scope: an auditor acts in its own name.
- :class:`CitizenSubjects`: NIK -> citizen id (the keyed blind index, nothing decrypted)
  -> audit pseudonym. A malformed NIK is refused without being repeated; an unknown one
  gives None, and the caller answers as for a citizen without events.
- :class:`AuditRecorder`: commits one audit entry (an auditor's query) in its own
  transaction through the log's normal append path, so the sequencer puts it in the tree.
- :func:`citizen_ids_for`: pseudonyms -> citizen ids for a breach report. The pseudonym is
  an HMAC over the id, so the only way back is to recompute it for every citizen id (ids
  only: no personal field is read); one streamed pass, memory bounded by the pseudonyms
  asked for.
- :class:`BreachContacts`: the email and phone to send an Art. 46 notice to, read through
  :meth:`CitizenService.read_personal_data`, the one audited access path, so that each
  read is itself in the log (purpose ``breach-notification``, legal basis (c)).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import select

from audit import AuditAppender
from audit.breach import BREACH_NOTIFICATION_PURPOSE
from audit.entry import Actor, AuditEntry, LegalBasis
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.nik import parse_nik
from identity.citizens.service import CitizenErased, CitizenService
from identity.errors import Unauthorized
from identity.http.bearer import ApiAuthorizer
from identity.storage.citizens import IdentityCitizen
from identity.storage.database import Database

log = logging.getLogger(__name__)

__all__ = [
    "AuditRecorder",
    "AuditorAuthorizer",
    "BreachContacts",
    "CitizenSubjects",
    "citizen_ids_for",
]

#: Indonesia's easternmost time zone (WIT, UTC+9): "today" for a NIK's birth date.
_LATEST_INDONESIAN_OFFSET = timedelta(hours=9)


class AuditorAuthorizer:
    """``authorize_auditor(request, scope) -> claims``: an auditor app's own access token."""

    def __init__(self, *, api: ApiAuthorizer) -> None:
        self._api = api

    def __call__(self, request: Request, scope: str) -> dict[str, Any]:
        claims = self._api(request, scope)
        client_id = claims.get("client_id")
        if not isinstance(client_id, str) or claims.get("sub") != client_id:
            log.info("access token refused: the audit API takes an auditor app's own token")
            raise Unauthorized("the access token is not valid")
        return claims


class CitizenSubjects:
    """:class:`audit.http.SubjectResolver` over the citizen service's blind index."""

    def __init__(
        self,
        *,
        citizens: CitizenService,
        pseudonymizer: SubjectPseudonymizer,
        clock: Callable[[], datetime],
    ) -> None:
        self._citizens = citizens
        self._pseudonymizer = pseudonymizer
        self._clock = clock

    def pseudonym_for_nik(self, nik: str) -> str | None:
        """The pseudonym of the citizen holding ``nik``; None when no live citizen does.

        Raises:
            InvalidNik: ``nik`` cannot be a NIK (the message names the check, not the NIK).
        """
        nik = nik.strip()
        parse_nik(nik, today=(self._clock() + _LATEST_INDONESIAN_OFFSET).date())
        citizen_id = self._citizens.find_by_nik(nik)
        return None if citizen_id is None else self._pseudonymizer.pseudonym(citizen_id)

    def pseudonym_for_id(self, subject_id: str) -> str:
        return self._pseudonymizer.pseudonym(subject_id)


class AuditRecorder:
    """:class:`audit.http.EntryRecorder`: one entry, one committed write transaction."""

    def __init__(self, *, database: Database, appender: AuditAppender) -> None:
        self._database = database
        self._appender = appender

    def record(self, entry: AuditEntry) -> None:
        with self._database.write() as session:
            self._appender.append(session, entry, queued_at=entry.time)


def citizen_ids_for(
    pseudonyms: Collection[str],
    *,
    database: Database,
    pseudonymizer: SubjectPseudonymizer,
    batch: int = 5000,
) -> dict[str, str]:
    """The citizen id behind each of ``pseudonyms`` that belongs to a citizen (erased ones
    included: their tombstone keeps the id). Pseudonyms of no citizen are left out.

    Streams every citizen id once (server-side cursor on PostgreSQL) and stops early when
    all are found: O(citizens) HMACs, memory O(len(pseudonyms)).
    """
    wanted = set(pseudonyms)
    found: dict[str, str] = {}
    if not wanted:
        return found
    query = select(IdentityCitizen.id).execution_options(yield_per=batch)
    with database.read() as session:
        for citizen_id in session.scalars(query):
            pseudonym = pseudonymizer.pseudonym(citizen_id)
            if pseudonym in wanted:
                found[pseudonym] = citizen_id
                if len(found) == len(wanted):
                    break
    return found


class BreachContacts:
    """``contact(citizen_id)``: where to send a citizen their UU PDP Art. 46 breach notice.

    Each call is one audited read of ``email`` and ``phone`` by ``actor`` (the operator),
    purpose ``breach-notification`` under legal basis (c): Art. 46 obliges the notice. An
    erased citizen has no contact left (the read is recorded as denied) and gives None.
    """

    FIELDS = ("email", "phone")

    def __init__(self, *, citizens: CitizenService, actor: Actor) -> None:
        self._citizens = citizens
        self._actor = actor

    def __call__(self, citizen_id: str) -> dict[str, str | None] | None:
        try:
            data = self._citizens.read_personal_data(
                citizen_id,
                self.FIELDS,
                actor=self._actor,
                purpose=BREACH_NOTIFICATION_PURPOSE,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
            )
        except CitizenErased:
            return None
        return {name: data[name] for name in self.FIELDS}
