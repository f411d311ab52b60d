"""The identity package's exceptions; :class:`IdentityError` is the root and is never raised.

::

    IdentityError
    ├── ConfigurationError     settings that cannot be used (lists every problem and its fix)
    ├── NotFound               a resource that does not exist
    │   ├── CitizenNotFound    no citizen with this id
    │   ├── NikNotRegistered   no citizen registered with this NIK (an erased one's is unlinked)
    │   ├── NoEnrolment        no second factor (or none waiting for its confirming code)
    │   └── PasskeyNotFound    no passkey of this citizen with this id
    ├── Conflict               a resource that already exists
    │   ├── DuplicateNik       a citizen with this NIK is already registered
    │   ├── SecondFactorEnabled    a second factor is enabled already
    │   ├── DuplicatePasskey   the credential id is registered already (WebAuthn §7.1 step 26)
    │   ├── TooManyPasskeys    the citizen has the most passkeys allowed already
    │   └── LastPasskey        the only passkey of a citizen without a password
    ├── Gone                   a resource deliberately removed (an erased citizen)
    │   └── CitizenErased      the citizen's personal data has been erased (UU PDP Art. 43-44)
    ├── Throttled              too many attempts; ``retry_after`` seconds to wait
    │   └── Overloaded         the hashing pool is full (503); ``retry_after`` seconds to wait
    ├── InvalidInput           a value that does not meet its format
    │   ├── InvalidField       a citizen's field; ``field`` names it (never its value)
    │   │   └── InvalidPasskeyName     a passkey's name that is empty, too long or unprintable
    │   ├── MalformedAccessCode    not an activation or recovery code's format (it is public)
    │   ├── InvalidPasskeyResponse the browser's WebAuthn response cannot be read at all
    │   ├── InvalidNik         a NIK that cannot be valid; ``reason`` names the failed check
    │   ├── InvalidImportFile  not a population-register export (its header, a row's columns)
    │   └── InvalidClientMetadata   relying-app registration refused (RFC 7591 §3.2.2)
    │       └── InvalidRedirectUri  a redirect URI refused (RFC 7591 §3.2.2)
    ├── Unauthorized           no valid credentials for what was asked
    │   ├── InvalidCredentials     the one answer to a failed login, whatever the reason
    │   ├── InvalidClient      client authentication failed (RFC 6749 §5.2), one opaque answer
    │   ├── SecondFactorRequired   a right password, but the citizen also has a second factor
    │   ├── InvalidCode        a TOTP code malformed, wrong, outside the window or used
    │   ├── ActivationRefused  an activation code wrong, expired, replaced or used: one answer
    │   ├── RecoveryCodeRefused    a recovery code unknown or used already: one answer
    │   └── PasskeyRefused     a WebAuthn ceremony that does not verify; ``reason`` names why
    │       ├── PasskeyCeremonyExpired   its state is past its expiry or unreadable
    │       ├── PasskeyReplayed          its challenge has been used already
    │       └── ClonedAuthenticator      the signature counter did not go up (§6.1.1)
    ├── InsufficientScope      valid credentials without the scope asked for (RFC 6750 §3.1)
    ├── UnreadableField        a sealed value or wrapped key that does not open
    └── OAuthError             an OAuth 2.0 / OIDC protocol error with its registered code
        ├── AuthorizationError     at the authorization endpoint (RFC 6749 §4.1.2.1)
        └── TokenError             at the token endpoint (RFC 6749 §5.2)
            └── TemporarilyUnavailable   client authentication refused for now (429, 503)
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


class Gone(IdentityError):
    """A resource that existed and was deliberately removed (UU PDP Art. 43-44 erasure)."""

    code = "gone"


class Throttled(IdentityError):
    """Too many attempts (RFC 6585 §4); ``retry_after`` is whole seconds to wait (RFC 9110
    §10.2.3)."""

    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"too many failed attempts; try again in {self.retry_after} seconds")


class Overloaded(Throttled):
    """Too many hashes waiting in this worker (:mod:`identity.citizens.hashing_pool`): refused at
    once rather than queued, answered 503 (RFC 9110 §15.6.4) with ``Retry-After``. A kind of
    :class:`Throttled`, so that every caller that asks to come back later also does here."""

    code = "overloaded"

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.args = (f"the service is busy; try again in {self.retry_after} seconds",)


class InvalidInput(IdentityError):
    code = "invalid_input"


class Unauthorized(IdentityError):
    code = "unauthorized"


class InsufficientScope(IdentityError):
    """A valid access token without the scope the resource needs (RFC 6750 §3.1: 403)."""

    code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(f"this endpoint needs an access token with scope {scope}")


class InvalidClientMetadata(InvalidInput):
    """A relying app's registration metadata is refused (RFC 7591 §3.2.2)."""

    code = "invalid_client_metadata"


class InvalidRedirectUri(InvalidClientMetadata):
    """A redirect URI is refused (RFC 7591 §3.2.2)."""

    code = "invalid_redirect_uri"


class InvalidClient(Unauthorized):
    """Client authentication failed (RFC 6749 §5.2); the same answer for every reason."""

    code = "invalid_client"


class SecondFactorRequired(Unauthorized):
    """The NIK and password are right, but the citizen signs in with a second factor too
    (:mod:`identity.login.totp`): the password alone authenticates nobody (issue 17). Said only
    after a right password, as the login page's second step does."""

    code = "second_factor_required"

    def __init__(self) -> None:
        super().__init__(
            "this citizen signs in with a second factor as well: use the login page, which "
            "asks for the code"
        )


class InvalidField(InvalidInput):
    """A field that does not meet its format; ``field`` names it (never its value)."""

    code = "invalid_field"

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"{field_name}: {message}")


class InvalidNik(InvalidInput):
    """A NIK that cannot be valid; ``reason`` is a short code for the failed check
    (:func:`identity.citizens.nik.parse_nik`)."""

    code = "invalid_nik"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"invalid NIK: {message}")


class InvalidImportFile(InvalidInput):
    """Not a population-register export ``jati citizen import`` reads: its header, or a row
    of the wrong number of columns or not UTF-8
    (:mod:`identity.citizens.population_import`)."""

    code = "invalid_import_file"


class DuplicateNik(Conflict):
    """A registration refused: a live citizen holds this NIK (nothing is written)."""

    code = "duplicate_nik"

    def __init__(self) -> None:
        super().__init__("a citizen with this NIK is already registered")


class CitizenNotFound(NotFound):
    """No citizen, live or erased, has this id."""

    code = "citizen_not_found"

    def __init__(self) -> None:
        super().__init__("no citizen with this id")


class NikNotRegistered(NotFound):
    """No live citizen holds this NIK: an erasure unlinks the NIK from the citizen id."""

    code = "nik_not_registered"

    def __init__(self) -> None:
        super().__init__(
            "no citizen is registered with this NIK (an erased citizen's NIK is no longer "
            "linked: use the citizen id)"
        )


class CitizenErased(Gone):
    """The citizen's personal data has been erased (UU PDP Art. 43-44): only the tombstone,
    their id and when, remains."""

    code = "citizen_erased"

    def __init__(self) -> None:
        super().__init__("this citizen's personal data has been erased")


class InvalidCredentials(Unauthorized):
    """The one answer to a failed login, whatever the reason (the reason goes to the log)."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("the NIK or the password is wrong")


class UnreadableField(IdentityError):
    """A sealed value or wrapped key that does not open: tampered, misplaced or shredded
    (:mod:`identity.citizens.field_crypto`)."""

    code = "unreadable_field"


class OAuthError(IdentityError):
    """A protocol error answered in the form its standard prescribes, not as a problem
    document: ``error`` is the registered code (RFC 6749 §11.4, OIDC Core §3.1.2.6),
    ``description`` a short text for the developer (never personal data or a secret)."""

    code = "oauth_error"

    def __init__(self, error: str, description: str = "") -> None:
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)


class AuthorizationError(OAuthError):
    """An authorization request refused (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).

    ``redirectable`` is False when the client or its redirect URI could not be trusted:
    then the error is shown to the user and never sent to any URI (§4.1.2.1 first
    paragraph, RFC 9700 §4.11).
    """

    code = "authorization_error"

    def __init__(self, error: str, description: str = "", *, redirectable: bool = True) -> None:
        super().__init__(error, description)
        self.redirectable = redirectable


class TokenError(OAuthError):
    """A token, revocation or introspection request refused (RFC 6749 §5.2): answered as
    JSON with status 400, or 401 with ``WWW-Authenticate`` for ``invalid_client``."""

    code = "token_error"

    @property
    def status(self) -> int:
        return 401 if self.error == "invalid_client" else 400


class TemporarilyUnavailable(TokenError):
    """Client authentication not attempted: the client id or the address is throttled (429,
    RFC 6585 §4) or the hashing pool is full (503). ``retry_after`` seconds go into
    ``Retry-After`` (RFC 9110 §10.2.3).

    The body keeps RFC 6749 §5.2's JSON form with the registered code
    ``temporarily_unavailable`` (RFC 6749 §4.1.2.1, §11.4): an OAuth library reads it as an
    error to retry later. Not ``invalid_client``: the credentials were not checked, and the
    real app whose correct secret meets a lock must not conclude that its secret is wrong.
    Not ``slow_down``: RFC 8628 §3.5 defines it for device-flow polling."""

    def __init__(self, description: str, *, status: int, retry_after: int) -> None:
        super().__init__("temporarily_unavailable", description)
        self._status = status
        self.retry_after = max(1, int(retry_after))

    @property
    def status(self) -> int:
        return self._status


class CredentialError(OAuthError):
    """A credential or nonce request refused (OpenID for Verifiable Credential Issuance 1.0
    §8.3.1.2): answered as JSON ``{"error", "error_description"}`` with status 400. The
    codes are ``invalid_credential_request``, ``unknown_credential_configuration``,
    ``invalid_proof``, ``invalid_nonce`` and ``credential_request_denied``."""

    code = "credential_error"


# ---------------------------------------------------------------- second factor (RFC 6238)


class InvalidCode(Unauthorized):
    """The code is malformed, wrong, outside the window or already used: one answer."""

    code = "invalid_otp"

    def __init__(self) -> None:
        super().__init__("the code is wrong or has already been used")


class NoEnrolment(NotFound):
    """No second factor (or no enrolment waiting for its confirming code)."""

    code = "no_second_factor"

    def __init__(self, message: str = "no second factor is enrolled") -> None:
        super().__init__(message)


class SecondFactorEnabled(Conflict):
    code = "second_factor_enabled"

    def __init__(self) -> None:
        super().__init__("a second factor is already enabled; disable it first")


# ---------------------------------------------------------------- activation and recovery codes


class MalformedAccessCode(InvalidInput):
    """What was typed cannot be an access code (:mod:`identity.login.access_codes`): not 16
    characters of the code alphabet once spaces and hyphens are dropped. The format is
    public, so saying so tells nothing about any account."""

    code = "malformed_access_code"

    def __init__(self) -> None:
        super().__init__(
            "an access code is 16 letters and digits, in four groups of four "
            "(for example 7KQ2-M9XD-4HPA-T3VE)"
        )


class ActivationRefused(Unauthorized):
    """The one answer to an activation code that does not open the account: wrong, expired,
    replaced by a newer one, already used, or none was issued
    (:class:`identity.login.activation.Activations`)."""

    code = "activation_refused"

    def __init__(self) -> None:
        super().__init__(
            "this activation code cannot be used: it is wrong, has expired, was replaced by a "
            "newer one or has been used; ask at the counter for a new one"
        )


class RecoveryCodeRefused(Unauthorized):
    """The one answer to a recovery code that is not one of the citizen's unused ones
    (:class:`identity.login.recovery_codes.RecoveryCodes`)."""

    code = "recovery_code_refused"

    def __init__(self) -> None:
        super().__init__("this recovery code is wrong or has already been used")


# ---------------------------------------------------------------- passkeys (WebAuthn Level 3)


class InvalidPasskeyResponse(InvalidInput):
    """The response is not a ``RegistrationResponseJSON`` / ``AuthenticationResponseJSON``
    (WebAuthn Level 3 §5.1) that the library can parse: bad base64url, CBOR or JSON."""

    code = "invalid_passkey_response"

    def __init__(self) -> None:
        super().__init__("the passkey response is malformed")


class InvalidPasskeyName(InvalidField):
    code = "invalid_passkey_name"

    def __init__(self, message: str) -> None:
        super().__init__("passkey_name", message)


class PasskeyRefused(Unauthorized):
    """A registration or sign-in that does not verify. ``reason`` names the failed check
    (``origin``, ``rp_id``, ``challenge``, ``type``, ``cross_origin``, ``user_presence``,
    ``user_verification``, ``signature``, ``unknown_credential``, ``user_handle``,
    ``backup_eligibility``, ``backup_state``, ``algorithm``, ``public_key``,
    ``credential_id``, ``attested_credential_data``, ``citizen``, ...); the message is the
    same for all, so that a page cannot become an oracle."""

    code = "passkey_refused"

    def __init__(self, reason: str, message: str = "the passkey could not be verified") -> None:
        self.reason = reason
        super().__init__(message)


class PasskeyCeremonyExpired(PasskeyRefused):
    """The state kept for the ceremony is past its expiry, or is not one this service made
    for this kind of ceremony: start again."""

    code = "passkey_ceremony_expired"

    def __init__(self) -> None:
        super().__init__("expired", "the passkey request has expired; start again")


class PasskeyReplayed(PasskeyRefused):
    """The ceremony's challenge was spent by an earlier response (a replay)."""

    code = "passkey_replayed"

    def __init__(self) -> None:
        super().__init__("replayed", "this passkey response has been used already; start again")


class ClonedAuthenticator(PasskeyRefused):
    """The signature counter did not go up (WebAuthn Level 3 §6.1.1, §7.2 step 22): a signal
    that two copies of the private key may be in use. Refused and audited as denied."""

    code = "passkey_cloned"

    def __init__(self) -> None:
        super().__init__(
            "counter",
            "this passkey's authenticator may have been copied; sign in another way and "
            "remove the passkey",
        )


class DuplicatePasskey(Conflict):
    code = "duplicate_passkey"

    def __init__(self) -> None:
        super().__init__("this passkey is registered already")


class TooManyPasskeys(Conflict):
    code = "too_many_passkeys"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"a citizen may register at most {limit} passkeys; remove one first")


class LastPasskey(Conflict):
    """The citizen's only passkey, with no password beside it: removing it would leave only
    the recovery codes (add another way to sign in first)."""

    code = "last_passkey"

    def __init__(self) -> None:
        super().__init__("this is your only way to sign in; add another one before removing it")


class PasskeyNotFound(NotFound):
    code = "passkey_not_found"

    def __init__(self) -> None:
        super().__init__("no such passkey")
