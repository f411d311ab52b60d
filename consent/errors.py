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
