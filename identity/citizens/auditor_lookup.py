"""Identity's side of auditor access to the audit log (UU PDP Art. 31, 46), without storage
or HTTP: the audit package knows citizens only by keyed pseudonym and cannot import
identity; what an auditor or an operator holds is a NIK or an internal id.

- :class:`CitizenSubjects`: NIK -> citizen id (the keyed blind index, nothing decrypted)
  -> audit pseudonym. A malformed NIK is refused without being repeated; an unknown one
  gives None, and the caller answers as for a citizen without events.
- :func:`match_pseudonyms`: pseudonyms -> citizen ids for a breach report. The pseudonym is
  an HMAC over the id, so the only way back is to recompute it for every citizen id (ids
  only: no personal field is read); one pass over the ids, stopped once all are found,
  memory bounded by the pseudonyms asked for (the ids are streamed by
  :func:`identity.storage.auditor_lookup.citizen_ids_for`).
- :class:`BreachContacts`: the email and phone to send an Art. 46 notice to, read through
  :meth:`CitizenService.read_personal_data`, the one audited access path, so that each
  read is itself in the log (purpose ``breach-notification``, legal basis (c)).

The audit API's authorization is HTTP's (:mod:`identity.http.audit_access`); the recording
of an auditor's query is storage's (:mod:`identity.storage.auditor_lookup`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from audit.breach import BREACH_NOTIFICATION_PURPOSE
from audit.entry import Actor, LegalBasis
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.nik import parse_nik, today_in_indonesia
from identity.citizens.service import CitizenService
from identity.errors import CitizenErased

__all__ = ["BreachContacts", "CitizenSubjects", "match_pseudonyms"]


class CitizenSubjects:
    """:class:`audit.search.SubjectResolver` over the citizen service's blind index."""

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
        parse_nik(nik, today=today_in_indonesia(self._clock()))
        citizen_id = self._citizens.find_by_nik(nik)
        return None if citizen_id is None else self._pseudonymizer.pseudonym(citizen_id)

    def pseudonym_for_id(self, subject_id: str) -> str:
        return self._pseudonymizer.pseudonym(subject_id)


def match_pseudonyms(
    wanted: set[str], citizen_ids: Iterable[str], pseudonymizer: SubjectPseudonymizer
) -> dict[str, str]:
    """The citizen id behind each of the ``wanted`` pseudonyms found among ``citizen_ids``
    (pseudonyms of no citizen are left out): one HMAC per id, until all are found."""
    found: dict[str, str] = {}
    for citizen_id in citizen_ids:
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
