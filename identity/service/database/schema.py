"""Every package's table metadata, for Alembic (identity is the composition root)."""

from __future__ import annotations

from sqlalchemy import MetaData


def all_metadata() -> list[MetaData]:
    import consent.storage.ledger  # noqa: F401 - declares the consent ledger's tables
    import identity.storage.citizens  # declares the citizens' and login throttle tables
    import identity.storage.clients  # declares relying apps' tables on it
    import identity.storage.credentials  # issued SD-JWT VCs, spent nonces
    import identity.storage.oidc  # sessions, codes, refresh tokens
    import identity.storage.status_lists  # Token Status Lists
    import identity.storage.totp  # noqa: F401 - citizens' second factor
    from audit.storage.tables import metadata as audit_metadata
    from consent.storage.tables import metadata as consent_metadata
    from identity.storage.tables import metadata as identity_metadata

    return [audit_metadata, consent_metadata, identity_metadata]
