"""The service's objects, built once: :class:`Services`, the one typed container the app keeps in
``app.state.services`` and the routes read through :func:`identity.service.web.state.services`.

:func:`build_services` is the composition root: every store is made on one database, every key
derived from one master key, and every service given the same clock, audit appender and
pseudonymizer, so that what a route writes and what it records commit together (UU PDP Art.
31). Nothing here touches the database: the stores open their transactions when first used,
and readiness reports on the database. The factories it calls are
:mod:`identity.service.factories`'s, which the ``jati`` commands use one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from consent.gate import CachedConsentRecords, ConsentGate
from consent.ledger import ConsentLedger
from consent.receipts import ReceiptIssuer
from consent.requests.controllers import ControllerDesk
from consent.requests.service import RequestService
from consent.storage.requests import build_request_service
from identity.citizens.account_access import AccountAccess
from identity.citizens.auditor_lookup import CitizenSubjects
from identity.citizens.hashing_pool import HashingPool
from identity.citizens.passwords import PasswordService
from identity.citizens.service import CitizenService
from identity.citizens.subject_requests import CitizenSubjectData
from identity.credentials.issuer import CredentialService, RevokeOnConsentChange
from identity.credentials.release import CredentialRelease
from identity.credentials.status_registry import StatusLists
from identity.keys.signing_keys import KeySealer, key_store_loader
from identity.login.account_events import AccountEvents
from identity.login.activation import Activations
from identity.login.passkeys import Passkeys
from identity.login.recovery_codes import RecoveryCodes
from identity.login.sessions import SessionService
from identity.login.totp import SecondFactor
from identity.oidc.access_tokens import AccessTokenChecks, AccessTokenVerifiers
from identity.oidc.authorize import AuthorizationRequests, StepUpMethods
from identity.oidc.claims_release import ClaimRelease
from identity.oidc.client_auth import AssertionVerifier, ClientAuthenticator
from identity.oidc.client_registry import ClientRegistry
from identity.oidc.endpoints import TOKEN_PATH
from identity.oidc.introspection import Introspector
from identity.oidc.issuance import Issuance
from identity.oidc.logout import RpInitiatedLogout
from identity.oidc.pairwise import PairwiseSubjects, SelfSubjects
from identity.oidc.revocation import Revocation
from identity.oidc.sealed_request import RequestSealer
from identity.oidc.token_endpoint import TokenService
from identity.oidc.tokens import ActiveSigner, TokenIssuer
from identity.oidc.userinfo import Userinfo
from identity.relying_party.key_cache import JwksLoader
from identity.service.background import SequencerHealth
from identity.service.database import migrate
from identity.service.factories import (
    build_account_access,
    build_audit_log,
    build_citizen_service,
    build_client_throttle,
    build_consent,
    build_credentials,
    build_second_factor,
    build_staff,
    build_status_lists,
)
from identity.service.settings import Settings
from identity.staff.accounts import StaffAccounts
from identity.staff.sessions import ConsoleSessions
from identity.storage.auditor_lookup import AuditRecorder
from identity.storage.clients import SqlClientStore
from identity.storage.database import Database
from identity.storage.keys import SqlKeyStore
from identity.storage.oidc import SqlOidcStore

__all__ = ["CoreServices", "Services", "build_services"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CoreServices:
    """What the rest is built on: the audit log (UU PDP Art. 31) and who writes to it, keys
    and tokens, consent (UU PDP Art. 20-22: the ledger, and the one check before any release
    of data), citizens (the one audited access path to personal data), relying apps, and
    verifiable credentials (SD-JWT VC) with their Token Status Lists."""

    settings: Settings
    database: Database
    issuer: str
    audit_log: AuditLog
    pseudonymizer: SubjectPseudonymizer
    key_store: SqlKeyStore
    token_signer: ActiveSigner
    token_issuer: TokenIssuer
    self_subjects: SelfSubjects
    consent_ledger: ConsentLedger
    consent_gate: ConsentGate
    consent_records: CachedConsentRecords
    hashing: HashingPool
    passwords: PasswordService
    citizens: CitizenService
    clients: ClientRegistry
    credentials: CredentialService
    status_lists: StatusLists


@dataclass(frozen=True, kw_only=True, slots=True)
class Services(CoreServices):
    """Every object the routes, pages and background tasks use, each built once."""

    #: The Alembic heads this code expects (``/readyz`` compares the database's).
    expected_revisions: frozenset[str]
    sequencer_health: SequencerHealth
    audit_subjects: CitizenSubjects
    audit_recorder: AuditRecorder
    receipts: ReceiptIssuer
    subject_requests: RequestService
    #: The requests a controller's data protection officer answers (the console).
    controller_desk: ControllerDesk
    # The OpenID Connect provider.
    oidc_store: SqlOidcStore
    sessions: SessionService
    second_factor: SecondFactor
    # Getting in and back in (issue 18): activation codes, recovery codes, passkeys, and
    # what the /activate page and ``jati citizen reset-access`` use of them.
    activations: Activations
    recovery_codes: RecoveryCodes
    passkeys: Passkeys
    account_access: AccountAccess
    authorization_requests: AuthorizationRequests
    # The console's people (issue 20): staff accounts and their sessions, apart.
    staff: StaffAccounts
    console_sessions: ConsoleSessions
    client_authenticator: ClientAuthenticator
    claim_release: ClaimRelease
    issuance: Issuance
    token_service: TokenService
    access_tokens: AccessTokenChecks
    userinfo: Userinfo
    revocation: Revocation
    introspector: Introspector
    logout: RpInitiatedLogout
    credential_release: CredentialRelease
    jwks_loader: JwksLoader = field(repr=False)


def build_services(settings: Settings, database: Database, master_key: bytes) -> Services:
    """Every service on ``database``, keyed from ``master_key``, configured by ``settings``."""
    core = _core(settings, database, master_key)
    citizens, clock = core.citizens, core.audit_log.clock
    staff, console_sessions = build_staff(
        settings, database, master_key, passwords=core.passwords, clock=clock,
        app_exists=core.clients.exists,
    )  # fmt: skip
    requests = _subject_requests(core)
    return Services(
        **{part.name: getattr(core, part.name) for part in fields(CoreServices)},
        expected_revisions=frozenset(migrate.head_revisions()),
        sequencer_health=SequencerHealth(),
        audit_subjects=CitizenSubjects(
            citizens=citizens, pseudonymizer=core.pseudonymizer, clock=clock
        ),
        audit_recorder=AuditRecorder(database=database, appender=citizens.audit),
        receipts=ReceiptIssuer(issuer=core.issuer, signer=core.token_signer.current, clock=clock),
        subject_requests=requests,
        controller_desk=_controller_desk(requests),
        staff=staff,
        console_sessions=console_sessions,
        **_provider(core, master_key),
    )


def _core(settings: Settings, database: Database, master_key: bytes) -> CoreServices:
    """The audit log, keys and tokens, consent, citizens, apps and credentials."""
    audit_log, pseudonymizer = build_audit_log(settings, database, master_key)
    clock = audit_log.clock
    issuer = settings.effective_issuer
    key_store = SqlKeyStore(database=database, sealer=KeySealer(master_key))
    self_subjects = SelfSubjects(master_key)
    token_signer = ActiveSigner(key_store.active, settings.token_signing_alg)
    token_issuer = TokenIssuer(
        issuer=issuer,
        signer=token_signer,
        pairwise=PairwiseSubjects(master_key),
        self_subjects=self_subjects,
        access_token_lifetime=settings.token_lifetime,
        id_token_lifetime=settings.token_lifetime,
    )
    consent_ledger, consent_gate = build_consent(
        settings, database, SqlAuditStore(engine=database.engine), pseudonymizer
    )
    # Citizens' passwords and client secrets are hashed on one bounded pool of their own
    # (identity/citizens/hashing_pool.py), never on the threads other routes wait for.
    hashing = HashingPool(threads=settings.hashing_threads, queue=settings.hashing_queue)
    passwords = PasswordService(
        profile=settings.password_profile, production=settings.is_production, hashing=hashing
    )
    citizens = build_citizen_service(
        settings, database, master_key, pseudonymizer=pseudonymizer, passwords=passwords
    )
    # What the token endpoint and introspection ask on every call, answered from memory.
    consent_records = CachedConsentRecords(ledger=consent_ledger, gate=consent_gate)
    status_lists = build_status_lists(settings, database, signer=token_signer.current, clock=clock)
    credentials = build_credentials(
        settings,
        database,
        master_key,
        signer=token_signer.current,
        audit=citizens.audit,
        pseudonymizer=pseudonymizer,
        grants=consent_records,
        clock=clock,
        status_lists=status_lists,
    )
    # A withdrawn or ended grant revokes the credentials resting on it.
    consent_ledger.notifier = RevokeOnConsentChange(consent_ledger.notifier, credentials)
    return CoreServices(
        settings=settings,
        database=database,
        issuer=issuer,
        audit_log=audit_log,
        pseudonymizer=pseudonymizer,
        key_store=key_store,
        token_signer=token_signer,
        token_issuer=token_issuer,
        self_subjects=self_subjects,
        consent_ledger=consent_ledger,
        consent_gate=consent_gate,
        consent_records=consent_records,
        hashing=hashing,
        passwords=passwords,
        citizens=citizens,
        clients=ClientRegistry(
            store=SqlClientStore(database=database),
            passwords=passwords,
            clock=clock,
            throttle=build_client_throttle(database, master_key),
        ),
        credentials=credentials,
        status_lists=status_lists,
    )


def _controller_desk(requests: RequestService) -> ControllerDesk:
    """The DPOs' desk on the register, audit log and restriction flags of ``requests``."""
    return ControllerDesk(
        store=requests.store, clock=requests.clock, audit=requests.audit,
        pseudonymizer=requests.pseudonymizer, restrictions=requests.restrictions,
        notifier=requests.notifier,
    )  # fmt: skip


def _subject_requests(shared: CoreServices) -> RequestService:
    """Data-subject requests (UU PDP Art. 14): carried out by the citizen service; a
    restriction or an erasure tells every worker's consent gate through the ledger's notifier;
    the export lists the citizen's consents from the ledger."""
    return build_request_service(
        database=shared.database,
        audit=shared.citizens.audit,
        pseudonymizer=shared.pseudonymizer,
        events=shared.audit_log,
        subject_data=CitizenSubjectData(
            citizens=shared.citizens,
            # The erasure itself ends the citizen's token families, codes, sessions and second
            # factor in its transaction (build_citizen_service); this follows once committed.
            after_erasure=(shared.credentials.revoke_all_for,),
        ),
        clock=shared.audit_log.clock,
        consents=shared.consent_ledger,
        notifier=shared.consent_ledger.notifier,
    )


def _sessions(shared: CoreServices, oidc_store: SqlOidcStore) -> SessionService:
    """Citizens' login sessions; a citizen ending sessions from the account page is an
    account-security audit entry."""
    return SessionService(
        store=oidc_store,
        clock=shared.audit_log.clock,
        lifetime=timedelta(seconds=shared.settings.session_lifetime),
        secure=shared.issuer.startswith("https://"),
        audit=shared.citizens.audit,
        pseudonymizer=shared.pseudonymizer,
    )


def _provider(shared: CoreServices, master_key: bytes) -> dict[str, Any]:
    """The OpenID Connect provider: sessions, answered authorization requests, codes, tokens,
    and the endpoints that read tokens back (userinfo, revocation, introspection, logout)."""
    settings, issuer, clock = shared.settings, shared.issuer, shared.audit_log.clock
    oidc_store = SqlOidcStore(database=shared.database)
    sessions = _sessions(shared, oidc_store)
    # The optional TOTP second factor: the login pages ask for it, and /authorize steps up
    # to it when an app asks for the multi-factor acr.
    second_factor = build_second_factor(
        database=shared.database, master_key=master_key, clock=clock, issuer=issuer,
        events=AccountEvents(audit=shared.citizens.audit, pseudonymizer=shared.pseudonymizer),
    )  # fmt: skip
    account_access = build_account_access(settings, shared.database, shared.citizens)
    jwks_loader = key_store_loader(shared.key_store, clock=clock)
    claim_release = ClaimRelease(gate=shared.consent_gate, citizens=shared.citizens)
    issuance = Issuance(
        tokens=shared.token_issuer,
        consent=shared.consent_records,
        claim_release=claim_release,
        pseudonymizer=shared.pseudonymizer,
        audit=shared.citizens.audit,
        refresh_lifetime=timedelta(seconds=settings.refresh_token_lifetime),
    )
    access_tokens = AccessTokenChecks(
        verifiers=AccessTokenVerifiers(issuer=issuer, jwks_loader=jwks_loader),
        store=oidc_store,
        consent=shared.consent_records,
    )
    return {
        "oidc_store": oidc_store,
        "sessions": sessions,
        "second_factor": second_factor,
        "activations": account_access.activations,
        "recovery_codes": account_access.recovery_codes,
        "passkeys": account_access.passkeys,
        "account_access": account_access,
        "authorization_requests": AuthorizationRequests(
            store=oidc_store,
            clients=shared.clients,
            consent=shared.consent_ledger,
            gate=shared.consent_gate,
            second_factors=StepUpMethods((second_factor, account_access.passkeys)),
            audit=shared.citizens.audit,
            pseudonymizer=shared.pseudonymizer,
            sealer=RequestSealer(master_key),
            issuer=issuer,
            clock=clock,
        ),
        "client_authenticator": ClientAuthenticator(
            registry=shared.clients,
            assertions=AssertionVerifier(issuer=issuer, token_endpoint=issuer + TOKEN_PATH),
            replay=oidc_store,
        ),
        "claim_release": claim_release,
        "issuance": issuance,
        "token_service": TokenService(store=oidc_store, issuance=issuance, clock=clock),
        "access_tokens": access_tokens,
        "userinfo": Userinfo(
            access_tokens=access_tokens, clients=shared.clients, issuance=issuance
        ),
        "revocation": Revocation(store=oidc_store, verifiers=access_tokens.verifiers, clock=clock),
        "introspector": Introspector(
            access_tokens=access_tokens,
            store=oidc_store,
            consent=shared.consent_records,
            clients=shared.clients,
            tokens=shared.token_issuer,
            clock=clock,
        ),
        "logout": RpInitiatedLogout(
            issuer=issuer,
            jwks_loader=jwks_loader,
            clients=shared.clients,
            subjects=shared.token_issuer,
            sessions=sessions,
        ),
        "credential_release": CredentialRelease(
            access_tokens=access_tokens, claims=issuance, clients=shared.clients
        ),
        "jwks_loader": jwks_loader,
    }
