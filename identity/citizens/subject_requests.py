"""Identity's side of data-subject requests: the citizen service carries them out.

:class:`CitizenSubjectData` implements the protocols that :mod:`consent.requests` declares
for what only identity can do, each through :class:`~identity.citizens.service.CitizenService`:

- **erasure** (UU PDP Art. 8, 43-45; PP 71/2019 self-service deletion):
  :meth:`CitizenService.erase`, crypto-shredding and a tombstone, audited with the request id;
- **correction** (Art. 6, 30): :meth:`CitizenService.correct`, values checked as at
  registration, sealed and audited in one transaction (only field names are recorded);
- **export** (Art. 7, 32): :meth:`CitizenService.read_personal_data`, the one audited read
  path, as the citizen themselves, purpose ``data-subject-access``, legal basis (c).

Identity errors are translated into the consent errors the request service understands, at
this boundary; their text names fields, never values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from audit.entry import Actor, LegalBasis
from consent.errors import InvalidSubjectRequest, SubjectErased, SubjectNotFound
from consent.requests.ports import Erasure, PersonalDataExport
from identity.citizens.fields import PERSONAL_FIELDS, validated_correction
from identity.citizens.service import SELF, CitizenService
from identity.errors import CitizenErased, CitizenNotFound, InvalidField

__all__ = ["ACCESS_PURPOSE", "ERASED_DATA", "CitizenSubjectData"]

#: The audit purpose of a citizen's read of their own data (UU PDP Art. 7, 32).
ACCESS_PURPOSE = "data-subject-access"
#: What an erasure destroys: every personal field (with the data key that sealed them), the
#: NIK's blind index and the password hash.
ERASED_DATA = (*PERSONAL_FIELDS, "nik-index", "password-hash", "data-key")


class CitizenSubjectData:
    """Erasure, correction and export of a citizen's personal data for
    :class:`consent.requests.service.RequestService`, acting as the citizen (``actor``)."""

    def __init__(
        self,
        *,
        citizens: CitizenService,
        actor: Actor = SELF,
        after_erasure: Sequence[Callable[[str], object]] = (),
    ) -> None:
        """``after_erasure``: what else holds the citizen and goes once an erasure has
        committed (their second factor, their credentials), each called with the citizen id.
        Their token families, codes and sessions end inside the erasure's transaction
        (:class:`~identity.citizens.erasure.ErasureStep`)."""
        self.citizens = citizens
        self.actor = actor
        self.after_erasure = tuple(after_erasure)

    def erase(self, subject_id: str, *, request_id: str) -> Erasure:
        """Crypto-shred the citizen; the tombstone's time is the erasure's.

        Raises:
            SubjectErased, SubjectNotFound: nothing changes.
        """
        try:
            tombstone = self.citizens.erase(
                subject_id,
                actor=self.actor,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                request_id=request_id,
            )
        except CitizenErased:
            raise SubjectErased() from None
        except CitizenNotFound:
            raise SubjectNotFound() from None
        for forget in self.after_erasure:
            forget(subject_id)
        return Erasure(erased=ERASED_DATA, erased_at=tombstone.erased_at)

    def check_correction(self, changes: Mapping[str, str]) -> tuple[str, ...]:
        """The field names of a valid correction (nothing is read or written).

        Raises:
            InvalidSubjectRequest: a field that may not be corrected, or a value that does
                not meet its format; named, never echoed.
        """
        try:
            return tuple(validated_correction(changes))
        except InvalidField as exc:
            raise _invalid(exc) from None

    def correct(
        self, subject_id: str, changes: Mapping[str, str], *, request_id: str
    ) -> tuple[str, ...]:
        """Apply the correction through the citizen service's audited write.

        Raises:
            InvalidSubjectRequest, SubjectErased, SubjectNotFound: nothing is written.
        """
        try:
            return self.citizens.correct(
                subject_id,
                changes,
                actor=self.actor,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                request_id=request_id,
            )
        except InvalidField as exc:
            raise _invalid(exc) from None
        except CitizenErased:
            raise SubjectErased() from None
        except CitizenNotFound:
            raise SubjectNotFound() from None

    def export(self, subject_id: str, *, request_id: str) -> PersonalDataExport:
        """Every personal field, read as the citizen (audited with ``request_id``); for an
        erased citizen, no values and the time of erasure (the denied read is audited too).

        Raises:
            SubjectNotFound.
        """
        try:
            data = self.citizens.read_personal_data(
                subject_id,
                PERSONAL_FIELDS,
                actor=self.actor,
                purpose=ACCESS_PURPOSE,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                request_id=request_id,
            )
        except CitizenNotFound:
            raise SubjectNotFound() from None
        except CitizenErased:
            tombstone = self.citizens.tombstone(subject_id)
            return PersonalDataExport(None, tombstone.erased_at if tombstone else None)
        return PersonalDataExport(dict(data.values))


def _invalid(exc: InvalidField) -> InvalidSubjectRequest:
    part = "fields" if exc.field == "fields" else f"fields.{exc.field}"
    message = str(exc).removeprefix(f"{exc.field}: ")
    return InvalidSubjectRequest(part, message)
