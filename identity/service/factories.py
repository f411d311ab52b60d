"""The factories of the composition root: each service built from settings, a database and the
master key, for the app (:mod:`identity.service.services`) and for the ``jati`` commands that
need one service alone (:mod:`identity.service.cli`).

The audit log's origin (its C2SP name) is chosen once: ``JATI_AUDIT_ORIGIN`` or, by default,
the issuer's host and path followed by ``/audit``; the first start records it in the database
and it stays fixed for the life of the log. The latest checkpoint each host signs is also kept
in ``<data dir>/audit-checkpoint.note``, outside the database: the sequencer never signs a tree
inconsistent with it, and ``jati audit verify`` checks the stored log against it. Every key is
derived from the master key (:mod:`identity.keys.derived_keys`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AuditAppender
from audit.log import AuditLog, Clock
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from audit.witness import FileWitnessState
from consent.gate import ConsentGate, SharedGenerations
from consent.ledger import ConsentLedger
from consent.storage.ledger import SqlLedgerStore
from identity.citizens.account_access import AccountAccess
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.passwords import PasswordService
from identity.citizens.population_import import PopulationImport
from identity.citizens.service import CitizenService
from identity.credentials.issuer import CredentialService, GrantActivity
from identity.credentials.proofs import CredentialNonces
from identity.credentials.status_registry import StatusLists
from identity.keys.derived_keys import (
    AUDIT_CHECKPOINT_KEY,
    AUDIT_PSEUDONYM_KEY,
    CLIENT_THROTTLE_KEY_LABEL,
    DEVICE_KEY_LABEL,
    LOGIN_THROTTLE_KEY_LABEL,
    derive_key,
)
from identity.login.account_events import AccountEvents
from identity.login.activation import Activations
from identity.login.devices import KnownDevices
from identity.login.passkeys import Passkeys
from identity.login.recovery_codes import RecoveryCodes
from identity.login.throttle import LoginThrottle, ThrottlePolicy
from identity.login.totp import SecondFactor, TotpSealer
from identity.oidc.client_throttle import ClientAuthThrottle
from identity.oidc.tokens import JwsSigner
from identity.service.settings import Settings
from identity.staff.accounts import StaffAccounts
from identity.staff.sessions import ConsoleSessions
from identity.storage.activation import ActivationErasure, SqlActivationStore
from identity.storage.citizens import SqlCitizenStore
from identity.storage.credentials import SqlCredentialStore
from identity.storage.database import Database
from identity.storage.oidc import CitizenTokenErasure
from identity.storage.passkeys import PasskeyErasure, SqlPasskeyStore
from identity.storage.population_import import SqlImportStore
from identity.storage.recovery_codes import RecoveryCodeErasure, SqlRecoveryCodeStore
from identity.storage.staff import SqlStaffStore
from identity.storage.status_lists import SqlStatusListStore
from identity.storage.throttle import SqlThrottleStore
from identity.storage.totp import SqlTotpStore, TotpErasure


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_origin(issuer: str | None) -> str:
    """``<host>[:port][/path]/audit`` of the issuer (C2SP: a schema-less URL)."""
    parts = urlsplit(issuer or "http://localhost")
    host = parts.netloc or "localhost"
    return f"{host}{parts.path.rstrip('/')}/audit"


WITNESS_FILE = "audit-checkpoint.note"


def witness_path(settings: Settings) -> Path:
    """Where this host keeps the latest checkpoint it signed, outside the database."""
    return settings.data_dir / WITNESS_FILE


def build_audit_log(
    settings: Settings,
    database: Database,
    master_key: bytes,
    *,
    clock: Clock = utc_now,
) -> tuple[AuditLog, SubjectPseudonymizer]:
    """The audit log and the subject pseudonymizer, keyed from ``master_key``."""
    seed = derive_key(master_key, AUDIT_CHECKPOINT_KEY)
    audit_log = AuditLog(
        store=SqlAuditStore(engine=database.engine),
        signing_key=Ed25519PrivateKey.from_private_bytes(seed),
        clock=clock,
        origin=settings.audit_origin,
        default_origin=default_origin(settings.issuer),
        max_merge_delay=settings.audit_max_merge_delay,
        witness=FileWitnessState(witness_path(settings)),
    )
    return audit_log, SubjectPseudonymizer(derive_key(master_key, AUDIT_PSEUDONYM_KEY))


CONSENT_GENERATIONS_FILE = "consent-generations"


def login_throttle(settings: Settings, database: Database, master_key: bytes) -> LoginThrottle:
    """The login throttle with the limits in ``settings`` and its key from the master key."""
    window = timedelta(seconds=settings.login_failure_window)
    lockout = timedelta(seconds=settings.login_lockout)
    max_lockout = timedelta(seconds=max(settings.login_max_lockout, settings.login_lockout))
    return LoginThrottle(
        store=SqlThrottleStore(database=database),
        key=derive_key(master_key, LOGIN_THROTTLE_KEY_LABEL),
        account=ThrottlePolicy(settings.login_account_max_failures, window, lockout, max_lockout),
        address=ThrottlePolicy(settings.login_address_max_failures, window, lockout, max_lockout),
    )


def build_citizen_service(
    settings: Settings,
    database: Database,
    master_key: bytes,
    *,
    pseudonymizer: SubjectPseudonymizer,
    audit: AuditAppender | None = None,
    passwords: PasswordService | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> CitizenService:
    """The citizen service on ``database``, keyed from ``master_key``; its audit entries go to
    ``audit`` (default: the audit log's queue in the same database). Its erasure also ends
    the citizen's token families, codes, sessions, second factor, activation code, recovery
    codes and passkeys, in the same transaction (every caller, the service and ``jati citizen
    erase`` alike), and so does an operator's access reset (:func:`build_account_access`)."""
    return CitizenService(
        store=SqlCitizenStore(database=database),
        cipher=FieldCipher(master_key),
        passwords=passwords
        or PasswordService(profile=settings.password_profile, production=settings.is_production),
        clock=clock,
        audit=audit or SqlAuditStore(engine=database.engine),
        pseudonymizer=pseudonymizer,
        throttle=login_throttle(settings, database, master_key),
        erasure_steps=(
            CitizenTokenErasure(),
            TotpErasure(),
            ActivationErasure(),
            RecoveryCodeErasure(),
            PasskeyErasure(),
        ),
        devices=KnownDevices(key=derive_key(master_key, DEVICE_KEY_LABEL)),
    )


def build_account_access(
    settings: Settings, database: Database, citizens: CitizenService
) -> AccountAccess:
    """Activation codes, recovery codes and passkeys, on ``citizens``' audit appender,
    pseudonymizer and clock; passkeys bound to the WebAuthn RP ID and the issuer's origin."""
    audit, pseudonymizer = citizens.audit, citizens.pseudonymizer
    return AccountAccess(
        citizens=citizens,
        activations=Activations(
            store=SqlActivationStore(database=database),
            audit=audit,
            pseudonymizer=pseudonymizer,
            lifetime=timedelta(seconds=settings.activation_lifetime),
        ),
        recovery_codes=RecoveryCodes(
            store=SqlRecoveryCodeStore(database=database), audit=audit, pseudonymizer=pseudonymizer
        ),
        passkeys=Passkeys(
            rp_id=settings.effective_webauthn_rp_id,
            origin=settings.webauthn_origin,
            store=SqlPasskeyStore(database=database),
            audit=audit,
            pseudonymizer=pseudonymizer,
            clock=citizens.clock,
        ),
    )


def build_population_import(
    settings: Settings, database: Database, citizens: CitizenService
) -> PopulationImport:
    """The population import (``jati citizen import``) on ``citizens``' cipher,
    pseudonymizer and clock; codes valid for ``JATI_ACTIVATION_LIFETIME``; conflicts checked
    through ``citizens``' audited access path."""
    return PopulationImport(
        store=SqlImportStore(database=database),
        cipher=citizens.cipher,
        audit=SqlAuditStore(engine=database.engine),
        pseudonymizer=citizens.pseudonymizer,
        clock=citizens.clock,
        lifetime=timedelta(seconds=settings.activation_lifetime),
        reader=citizens,
    )


def build_client_throttle(database: Database, master_key: bytes) -> ClientAuthThrottle:
    """The client-authentication throttle: counters in the same table as the logins',
    under a key of its own derived from the master key (:mod:`identity.oidc.client_throttle`)."""
    return ClientAuthThrottle(
        store=SqlThrottleStore(database=database),
        key=derive_key(master_key, CLIENT_THROTTLE_KEY_LABEL),
    )


def build_second_factor(
    *,
    database: Database,
    master_key: bytes,
    clock: Callable[[], datetime],
    issuer: str,
    events: AccountEvents | None = None,
) -> SecondFactor:
    """The second-factor service; the ``otpauth://`` account name is the issuer's host;
    turning it on or off is audited through ``events``."""
    account = urlsplit(issuer).netloc or "jati"
    return SecondFactor(
        store=SqlTotpStore(database=database),
        sealer=TotpSealer(master_key),
        clock=clock,
        account=account,
        events=events,
    )


def build_staff(
    settings: Settings,
    database: Database,
    master_key: bytes,
    *,
    passwords: PasswordService,
    app_exists: Callable[[str], bool],
    clock: Callable[[], datetime] = utc_now,
) -> tuple[StaffAccounts, ConsoleSessions]:
    """Staff accounts (audited in the log's queue on ``database``) and console sessions,
    in tables of their own; the ``otpauth://`` account is the issuer's host and ``console``."""
    store = SqlStaffStore(database=database)
    host = urlsplit(settings.effective_issuer).netloc or "jati"
    accounts = StaffAccounts(
        store=store, passwords=passwords, sealer=TotpSealer(master_key),
        audit=SqlAuditStore(engine=database.engine), clock=clock,
        activation_lifetime=timedelta(seconds=settings.activation_lifetime),
        app_exists=app_exists, totp_account=f"console@{host}",
    )  # fmt: skip
    sessions = ConsoleSessions(
        store=store, clock=clock, secure=settings.effective_issuer.startswith("https://"),
        lifetime=timedelta(seconds=settings.console_session_lifetime),
    )  # fmt: skip
    return accounts, sessions


def build_consent(
    settings: Settings,
    database: Database,
    audit_store: SqlAuditStore,
    pseudonymizer: SubjectPseudonymizer,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[ConsentLedger, ConsentGate]:
    """The consent ledger and the gate, sharing one table of generations per host
    (``<data dir>/consent-generations``) so that every worker's gate sees a change made by
    another on its next check (:mod:`consent.gate`)."""
    store = SqlLedgerStore(database=database)
    generations = SharedGenerations(settings.data_dir / CONSENT_GENERATIONS_FILE)
    ledger = ConsentLedger(
        store=store,
        clock=clock,
        audit=audit_store,
        pseudonymizer=pseudonymizer,
        notifier=generations,
    )
    gate = ConsentGate(
        source=store,
        generations=generations,
        clock=clock,
        max_age=settings.consent_cache_max_age,
    )
    return ledger, gate


def build_status_lists(
    settings: Settings,
    database: Database,
    *,
    signer: Callable[[], JwsSigner],
    clock: Callable[[], datetime] = utc_now,
) -> StatusLists:
    """The Token Status Lists of the credentials (draft-ietf-oauth-status-list)."""
    return StatusLists(
        store=SqlStatusListStore(database=database),
        signer=signer,
        issuer=settings.effective_issuer,
        clock=clock,
        size=settings.status_list_size,
        ttl=settings.status_list_ttl,
        lifetime=settings.status_list_lifetime,
    )


def build_credentials(
    settings: Settings,
    database: Database,
    master_key: bytes,
    *,
    signer: Callable[[], JwsSigner],
    audit: AuditAppender,
    pseudonymizer: SubjectPseudonymizer,
    grants: GrantActivity,
    clock: Callable[[], datetime] = utc_now,
    status_lists: StatusLists | None = None,
) -> CredentialService:
    """The credential service and its status lists (the app and ``jati credential``)."""
    return CredentialService(
        store=SqlCredentialStore(database=database),
        status_lists=status_lists
        or build_status_lists(settings, database, signer=signer, clock=clock),
        signer=signer,
        nonces=CredentialNonces(master_key),
        issuer=settings.effective_issuer,
        audit=audit,
        pseudonymizer=pseudonymizer,
        grants=grants,
        clock=clock,
        lifetime=timedelta(seconds=settings.credential_lifetime),
    )
