"""PostgreSQL privileges of the application role on every table (DESIGN.md §2).

The audit tables' privileges (append-only) come from :mod:`audit.storage.grants`; the
identity tables get only what the service does with them:

- ``identity_signing_key``: SELECT, INSERT, UPDATE (rotation changes a key's state);
- ``identity_citizen``: SELECT, INSERT, UPDATE, never DELETE: an erased citizen stays as a
  tombstone (UU PDP Art. 43-44 erasure is crypto-shredding);
- ``identity_citizen_key``: SELECT, INSERT, DELETE (erasure destroys the wrapped data key);
- ``identity_client``: SELECT, INSERT, UPDATE (a secret hash is replaced on rehash);
- ``identity_client_purpose``: SELECT, INSERT;
- ``identity_login_throttle``: SELECT, INSERT, UPDATE, DELETE (failure counters).

``jati db grants --role ROLE`` prints all of them.
"""

from __future__ import annotations

from audit.storage.grants import application_role_grants as audit_grants

IDENTITY_TABLE_PRIVILEGES: dict[str, str] = {
    "identity_signing_key": "SELECT, INSERT, UPDATE",
    "identity_citizen": "SELECT, INSERT, UPDATE",
    "identity_citizen_key": "SELECT, INSERT, DELETE",
    "identity_client": "SELECT, INSERT, UPDATE",
    "identity_client_purpose": "SELECT, INSERT",
    "identity_login_throttle": "SELECT, INSERT, UPDATE, DELETE",
}


def application_role_grants(role: str, schema: str = "public") -> list[str]:
    """Every GRANT the application role needs (``role`` and ``schema`` are validated as plain
    lower-case identifiers by the audit part, which comes first)."""
    statements = audit_grants(role, schema)
    for table, privileges in IDENTITY_TABLE_PRIVILEGES.items():
        statements.append(f"REVOKE ALL ON {schema}.{table} FROM {role}")
        statements.append(f"GRANT {privileges} ON {schema}.{table} TO {role}")
    return statements
