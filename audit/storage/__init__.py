"""SQLAlchemy adapter of the audit log (the only place in `audit` that imports SQLAlchemy):
:mod:`~.naming` (the constraint naming shared by every Jati table), :mod:`~.tables`,
:mod:`~.enqueue` (the writers' queue), :mod:`~.subtree_hashes`, :mod:`~.store` (the store:
append, sequence, read), :mod:`~.bulk` (batched inserts: COPY or executemany),
:mod:`~.verification` (``jati audit verify`` on the database) and :mod:`~.grants`
(PostgreSQL privileges). Imports the audit core, never `consent` or `identity`."""
