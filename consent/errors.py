"""The consent package's exceptions; :class:`ConsentError` is the root and is never raised."""

from __future__ import annotations

from typing import Any


class ConsentError(Exception):
    """Root of the consent package's errors. ``code`` is a short machine-readable name, which
    each subclass declares in its header (``class X(ConsentError, code="x")``); one that
    also declares a ``message`` is raised without arguments and says that message."""

    code = "consent_error"
    message: str | None = None

    def __init_subclass__(cls, *, code: str, message: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = code
        cls.message = message

    def __init__(self, *args: object) -> None:
        if not args and self.message is not None:
            args = (self.message,)
        super().__init__(*args)


class ConsentRequired(ConsentError, code="consent_required"):
    """No valid grant covers the purpose and data items (UU PDP Art. 20(2)(a), 22)."""


class ConsentWithdrawn(ConsentError, code="consent_withdrawn"):
    """The grant was withdrawn (UU PDP Art. 9, 40)."""


class InvalidPurpose(ConsentError, code="invalid_purpose"):
    """A purpose registration that is refused (UU PDP Art. 20(2), Art. 4)."""


class InvalidNotice(ConsentError, code="invalid_notice"):
    """A privacy notice that lacks an Art. 21 item or the DPO contact (Art. 53)."""


class InvalidConsent(ConsentError, code="invalid_consent"):
    """A consent attempt that does not meet Art. 22 (or Art. 25 for children); nothing of it
    is recorded."""


class NoticeChanged(InvalidConsent, code="notice_changed"):
    """The notice the citizen saw is no longer the app's current notice: ask again."""


class GrantNotFound(ConsentError, code="grant_not_found"):
    """No such grant for this citizen (the same answer whether it exists for another)."""


class InvalidSubjectRequest(ConsentError, code="invalid_subject_request"):
    """A data-subject request that cannot be accepted (UU PDP Art. 14); ``part`` names what is
    wrong (``kind``, ``fields``, ``fields.email``), never the value sent. Nothing is recorded."""

    def __init__(self, part: str, message: str) -> None:
        self.part = part
        super().__init__(f"{part}: {message}")


class RequestNotFound(ConsentError, code="request_not_found", message="no such request"):
    """No such request for this citizen (the same answer whether it exists for another)."""


class SubjectNotFound(ConsentError, code="subject_not_found", message="no such data subject"):
    """The request names no known data subject."""


class SubjectErased(
    ConsentError,
    code="subject_erased",
    message="this citizen's personal data has been erased",
):
    """The subject's personal data has been erased (UU PDP Art. 43-45): nothing to change."""
