"""The audit entries of account-security events (issue 18): an activation code issued, an
account activated, recovery codes made or used, and the like.

Each is a :func:`identity.citizens.records.citizen_entry` (UU PDP Art. 31: the subject by
pseudonym, the data items by name) with purpose :data:`ACCOUNT_SECURITY_PURPOSE` and legal
basis public task, appended through the :class:`audit.AuditAppender` in the transaction of
the change it records, so that the entry commits or rolls back with it. The citizen sees
these entries in their own log. An entry never holds a code, a hash of one, a credential id
or any personal data: only which kind of thing changed (``activation_code``, ``password``,
``recovery_codes``, ``passkey``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from audit import AuditAppender
from audit.entry import Action, Actor, LegalBasis, Outcome
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.records import citizen_entry

__all__ = ["ACCOUNT_SECURITY_PURPOSE", "AccountEvents"]

ACCOUNT_SECURITY_PURPOSE = "account-security"


class AccountEvents:
    """Appends account-security entries about a citizen in the caller's transaction."""

    __slots__ = ("audit", "pseudonymizer")

    def __init__(self, *, audit: AuditAppender, pseudonymizer: SubjectPseudonymizer) -> None:
        self.audit = audit
        self.pseudonymizer = pseudonymizer

    def append(
        self,
        bind: Any,
        citizen_id: str,
        now: datetime,
        *,
        actor: Actor,
        action: Action,
        items: Iterable[str],
        outcome: Outcome = Outcome.SUCCESS,
    ) -> None:
        """Append the entry through ``bind``, the transaction that makes the change."""
        entry = citizen_entry(
            self.pseudonymizer, citizen_id, now, actor=actor, action=action, items=items,
            purpose=ACCOUNT_SECURITY_PURPOSE, legal_basis=LegalBasis.PUBLIC_TASK,
            outcome=outcome,
        )  # fmt: skip
        self.audit.append(bind, entry, queued_at=now)
