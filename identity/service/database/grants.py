"""PostgreSQL privileges of the application role on every table (DESIGN.md §2).

The audit tables' privileges (append-only) come from :mod:`audit.storage.grants`; the
identity tables get only what the service does with them:

- ``identity_signing_key``: SELECT, INSERT, UPDATE (rotation changes a key's state);
- ``identity_citizen``: SELECT, INSERT, UPDATE, never DELETE: an erased citizen stays as a
  tombstone (UU PDP Art. 43-44 erasure is crypto-shredding);
- ``identity_citizen_key``: SELECT, INSERT, DELETE (erasure destroys the wrapped data key);
- ``identity_client``: SELECT, INSERT, UPDATE (a secret hash is replaced on rehash);
- ``identity_client_purpose``: SELECT, INSERT;
- ``identity_login_throttle``: SELECT, INSERT, UPDATE, DELETE (failure counters);
- ``identity_session``, ``identity_authorization_code``, ``identity_token_family``,
  ``identity_refresh_token``: SELECT, INSERT, UPDATE, DELETE (a session's last use, a code
  or refresh token marked used, a family revoked; expired rows purged);
- ``identity_authorization_request``, ``identity_revoked_token``,
  ``identity_client_assertion``: SELECT, INSERT, DELETE (never changed; purged on expiry);
- ``identity_totp``: SELECT, INSERT, UPDATE, DELETE (a second factor enabled, its last
  used step and failure counters, removed when disabled);
- ``identity_activation``: SELECT, INSERT, UPDATE, DELETE (a code re-issued in place, used
  up, revoked by a reset or erased); ``identity_recovery_code``: SELECT, INSERT, UPDATE,
  DELETE (a code marked used; the list replaced, revoked or erased);
- ``identity_passkey``: SELECT, INSERT, UPDATE, DELETE (its sign counter, backup state, name
  and last use; removed by the citizen, a reset or an erasure); ``identity_webauthn_user``:
  SELECT, INSERT, DELETE (the citizen's random user handle); ``identity_webauthn_challenge``:
  SELECT, INSERT, DELETE (spent challenges, purged on expiry);
- ``identity_status_list``: SELECT, INSERT, UPDATE (allocation count, closing, version);
  ``identity_status_entry``: SELECT, INSERT, UPDATE (a status changed), never DELETE: an
  index is never given to a second credential (draft-ietf-oauth-status-list §13.3);
- ``identity_credential``: SELECT, INSERT, UPDATE (its state), never DELETE: an issued
  credential stays on record; ``identity_credential_nonce``: SELECT, INSERT, DELETE (spent
  nonces, purged on expiry);
- ``identity_staff``: SELECT, INSERT, UPDATE, never DELETE: a disabled account stays, so the
  log's ``staff:<id>`` actors keep their meaning; ``identity_staff_session``: SELECT,
  INSERT, UPDATE, DELETE (last use; ended, purged on expiry);
- ``consent_purpose``, ``consent_notice``, ``consent_event``: SELECT and INSERT only (the
  ledger is append-only, UU PDP Art. 24; triggers refuse changes besides);
- ``consent_request``: SELECT, INSERT, UPDATE (a request's status); ``consent_restriction``:
  SELECT, INSERT, DELETE (a restriction is lifted).

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
    "identity_session": "SELECT, INSERT, UPDATE, DELETE",
    "identity_authorization_request": "SELECT, INSERT, DELETE",
    "identity_authorization_code": "SELECT, INSERT, UPDATE, DELETE",
    "identity_token_family": "SELECT, INSERT, UPDATE, DELETE",
    "identity_refresh_token": "SELECT, INSERT, UPDATE, DELETE",
    "identity_revoked_token": "SELECT, INSERT, DELETE",
    "identity_client_assertion": "SELECT, INSERT, DELETE",
    "identity_totp": "SELECT, INSERT, UPDATE, DELETE",
    "identity_activation": "SELECT, INSERT, UPDATE, DELETE",
    "identity_recovery_code": "SELECT, INSERT, UPDATE, DELETE",
    "identity_passkey": "SELECT, INSERT, UPDATE, DELETE",
    "identity_webauthn_user": "SELECT, INSERT, DELETE",
    "identity_webauthn_challenge": "SELECT, INSERT, DELETE",
    "identity_status_list": "SELECT, INSERT, UPDATE",
    "identity_status_entry": "SELECT, INSERT, UPDATE",
    "identity_credential": "SELECT, INSERT, UPDATE",
    "identity_credential_nonce": "SELECT, INSERT, DELETE",
    "identity_staff": "SELECT, INSERT, UPDATE",
    "identity_staff_session": "SELECT, INSERT, UPDATE, DELETE",
}

CONSENT_TABLE_PRIVILEGES: dict[str, str] = {
    "consent_purpose": "SELECT, INSERT",
    "consent_notice": "SELECT, INSERT",
    "consent_event": "SELECT, INSERT",
    "consent_request": "SELECT, INSERT, UPDATE",
    "consent_restriction": "SELECT, INSERT, DELETE",
}


def application_role_grants(role: str, schema: str = "public") -> list[str]:
    """Every GRANT the application role needs (``role`` and ``schema`` are validated as plain
    lower-case identifiers by the audit part, which comes first)."""
    statements = audit_grants(role, schema)
    tables = IDENTITY_TABLE_PRIVILEGES | CONSENT_TABLE_PRIVILEGES
    for table, privileges in tables.items():
        statements.append(f"REVOKE ALL ON {schema}.{table} FROM {role}")
        statements.append(f"GRANT {privileges} ON {schema}.{table} TO {role}")
    statements.append(f"GRANT USAGE ON SEQUENCE {schema}.consent_event_seq_seq TO {role}")
    return statements
