"""Every package's table metadata, for Alembic (identity is the composition root)."""

from __future__ import annotations

from sqlalchemy import MetaData


def all_metadata() -> list[MetaData]:
    import consent.storage.ledger  # noqa: F401 - declares the consent ledger's tables
    import identity.storage.activation  # citizens' activation codes
    import identity.storage.citizens  # declares the citizens' tables
    import identity.storage.clients  # declares relying apps' tables on it
    import identity.storage.codes  # answered authorization requests, authorization codes
    import identity.storage.credentials  # issued SD-JWT VCs, spent nonces
    import identity.storage.passkeys  # citizens' passkeys, WebAuthn user handles, challenges
    import identity.storage.recovery_codes  # citizens' one-time recovery codes
    import identity.storage.replay_caches  # revoked access tokens, client assertions seen
    import identity.storage.sessions  # citizens' login sessions
    import identity.storage.staff  # staff accounts and console sessions
    import identity.storage.status_lists  # Token Status Lists
    import identity.storage.throttle  # login and client-authentication throttle counters
    import identity.storage.token_families  # token families, refresh tokens
    import identity.storage.totp  # noqa: F401 - citizens' second factor
    from audit.storage.tables import metadata as audit_metadata
    from consent.storage.tables import metadata as consent_metadata
    from identity.storage.tables import metadata as identity_metadata

    return [audit_metadata, consent_metadata, identity_metadata]
