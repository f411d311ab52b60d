"""The identity package's exceptions; :class:`IdentityError` is the root and is never raised.

::

    IdentityError
    ├── ConfigurationError     settings that cannot be used (lists every problem and its fix)
    ├── NotFound               a resource that does not exist
    ├── Conflict               a resource that already exists
    ├── InvalidInput           a value that does not meet its format
    └── Unauthorized           no valid credentials for what was asked
"""

from __future__ import annotations

from collections.abc import Sequence


class IdentityError(Exception):
    """Root of the identity package's errors. ``code`` is a short machine-readable name."""

    code = "identity_error"


class ConfigurationError(IdentityError):
    """The service refuses to start: each entry of ``problems`` says what and how to fix it."""

    code = "configuration_error"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Jati cannot start with these settings:\n{lines}")


class NotFound(IdentityError):
    code = "not_found"


class Conflict(IdentityError):
    code = "conflict"


class InvalidInput(IdentityError):
    code = "invalid_input"


class Unauthorized(IdentityError):
    code = "unauthorized"
