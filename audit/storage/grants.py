"""PostgreSQL privileges of the application role on the audit tables (DESIGN.md §2).

Run migrations as the schema owner; run the service as an application role that holds only
what it needs, so that even a compromised worker cannot rewrite history:

- ``audit_leaf``, ``audit_node``, ``audit_checkpoint``: SELECT and INSERT only;
- ``audit_queue``: SELECT, INSERT and DELETE (the sequencer removes what it integrated);
- ``audit_tree_state``: SELECT, INSERT and UPDATE (the sequencer's cursor);
- ``alembic_version``: SELECT, so that ``jati serve`` can see that the schema is current
  (it then skips the upgrade, which only the owner may run).

``jati db grants --role ROLE`` prints these statements.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")

TABLE_PRIVILEGES: dict[str, str] = {
    "audit_leaf": "SELECT, INSERT",
    "audit_node": "SELECT, INSERT",
    "audit_checkpoint": "SELECT, INSERT",
    "audit_queue": "SELECT, INSERT, DELETE",
    "audit_tree_state": "SELECT, INSERT, UPDATE",
}


def application_role_grants(role: str, schema: str = "public") -> list[str]:
    """The GRANT statements for ``role`` (a plain lower-case PostgreSQL identifier)."""
    for name, value in (("role", role), ("schema", schema)):
        if not _ROLE.fullmatch(value):
            raise ValueError(f"{name} must be a plain lower-case PostgreSQL identifier")
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {role}"]
    for table, privileges in TABLE_PRIVILEGES.items():
        statements.append(f"REVOKE ALL ON {schema}.{table} FROM {role}")
        statements.append(f"GRANT {privileges} ON {schema}.{table} TO {role}")
    statements.append(f"GRANT USAGE ON SEQUENCE {schema}.audit_queue_id_seq TO {role}")
    statements.append(f"GRANT SELECT ON {schema}.alembic_version TO {role}")
    return statements
