"""The consent package's exceptions; :class:`ConsentError` is the root and is never raised."""

from __future__ import annotations


class ConsentError(Exception):
    """Root of the consent package's errors. ``code`` is a short machine-readable name."""

    code = "consent_error"


class ConsentRequired(ConsentError):
    """No valid grant covers the purpose and data items (UU PDP Art. 20(2)(a), 22)."""

    code = "consent_required"


class ConsentWithdrawn(ConsentError):
    """The grant was withdrawn (UU PDP Art. 9, 40)."""

    code = "consent_withdrawn"


class InvalidPurpose(ConsentError):
    """A purpose registration that is refused (UU PDP Art. 20(2), Art. 4)."""

    code = "invalid_purpose"


class InvalidNotice(ConsentError):
    """A privacy notice that lacks an Art. 21 item or the DPO contact (Art. 53)."""

    code = "invalid_notice"


class InvalidConsent(ConsentError):
    """A consent attempt that does not meet Art. 22 (or Art. 25 for children); nothing of it
    is recorded."""

    code = "invalid_consent"


class NoticeChanged(InvalidConsent):
    """The notice the citizen saw is no longer the app's current notice: ask again."""

    code = "notice_changed"


class GrantNotFound(ConsentError):
    """No such grant for this citizen (the same answer whether it exists for another)."""

    code = "grant_not_found"


class InvalidSubjectRequest(ConsentError):
    """A data-subject request that cannot be accepted (UU PDP Art. 14); ``part`` names what is
    wrong (``kind``, ``fields``, ``fields.email``), never the value sent. Nothing is recorded."""

    code = "invalid_subject_request"

    def __init__(self, part: str, message: str) -> None:
        self.part = part
        super().__init__(f"{part}: {message}")


class RequestNotFound(ConsentError):
    """No such request for this citizen (the same answer whether it exists for another)."""

    code = "request_not_found"

    def __init__(self) -> None:
        super().__init__("no such request")


class SubjectNotFound(ConsentError):
    """The request names no known data subject."""

    code = "subject_not_found"

    def __init__(self) -> None:
        super().__init__("no such data subject")


class SubjectErased(ConsentError):
    """The subject's personal data has been erased (UU PDP Art. 43-45): nothing to change."""

    code = "subject_erased"

    def __init__(self) -> None:
        super().__init__("this citizen's personal data has been erased")
