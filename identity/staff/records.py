"""What a staff member is: a role, the apps a data protection officer answers for, and the
audit actor every console act is recorded under (UU PDP Art. 31: the operators are audited
too)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from audit.entry import Actor, ActorKind
from identity.errors import InvalidInput

__all__ = ["StaffMember", "StaffRole", "checked_email", "checked_name", "staff_actor"]

#: An email address as staff accounts take it: one ``@``, no blanks, at most 254 characters.
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}")
MAX_NAME_CHARS = 200


class StaffRole(StrEnum):
    """What a staff member may do in the console."""

    OPERATOR = "operator"  # relying apps, purposes, notices, keys, status
    DPO = "dpo"  # a controller's data protection officer: requests and breach reports
    AUDITOR = "auditor"  # an inspectorate, an audit board, the PDP authority: the log


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A staff account as stored (secrets kept out of ``repr``)."""

    id: str
    name: str
    email: str
    role: StaffRole
    apps: tuple[str, ...]  # a DPO's apps (client ids); empty for the other roles
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)
    sealed_totp: bytes | None = field(default=None, repr=False)
    totp_last_step: int | None = None
    activation_hash: str | None = field(default=None, repr=False)
    activation_expires_at: datetime | None = None
    failures: int = 0
    locked_until: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Activated (a password and a second factor) and not disabled."""
        return (
            self.disabled_at is None
            and self.password_hash is not None
            and self.sealed_totp is not None
        )

    @property
    def actor(self) -> Actor:
        return staff_actor(self.id, self.role)


def staff_actor(staff_id: str, role: StaffRole) -> Actor:
    """The audit actor of a staff member's acts: ``staff:<id>:<role>`` (an official)."""
    return Actor(kind=ActorKind.OFFICIAL, id=f"staff:{staff_id}:{role.value}")


def checked_email(email: str) -> str:
    """The address, trimmed and in lower case.

    Raises:
        InvalidInput: not an email address.
    """
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise InvalidInput("the email is not an email address")
    return value


def checked_name(name: str) -> str:
    """The name, trimmed.

    Raises:
        InvalidInput: empty, too long, or holding a control character.
    """
    value = name.strip()
    if not value or len(value) > MAX_NAME_CHARS or any(ord(c) < 32 for c in value):
        raise InvalidInput(f"the name is 1 to {MAX_NAME_CHARS} printable characters")
    return value
