"""Storage: identity's tables and the stores over them (SQLAlchemy 2.0, SQLite or PostgreSQL).

- :mod:`~identity.storage.database`: the engine and the read and write session factories;
  :mod:`~identity.storage.tables`: the tables' declarative base (and the signing keys' table);
  :mod:`~identity.storage.sql_store`: what the stores share (transactions, row conversion,
  conditional inserts, purges); :mod:`~identity.storage.housekeeping`: when writes purge.
- One module per concern, each a table (or two) with its store or its statements:
  ``citizens``, ``clients``, ``keys``, ``sessions``, ``codes``, ``token_families``,
  ``replay_caches``, ``credentials``, ``status_lists``, ``throttle``, ``totp``,
  ``activation``, ``recovery_codes``, ``passkeys``, ``population_import``;
  :mod:`~identity.storage.oidc` joins sessions, codes, token families and replay caches in
  one transaction type; ``auditor_lookup`` is what auditor access reads and writes.
- The refresh grant's fast paths: :mod:`~identity.storage.driver_statements` (statements
  compiled once) and :mod:`~identity.storage.loop_connections` (PostgreSQL on the event loop).

May import SQLAlchemy and psycopg, the audit package's storage (its queue and column types),
and identity's cores whose protocols it implements (``citizens``, ``login``, ``oidc``,
``credentials``, ``keys``); never ``identity.http`` or ``identity.service``, the composition
root that builds the services over these stores (the schema's migrations live there too).
"""
