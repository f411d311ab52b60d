"""SQL adapters of the consent package (SQLAlchemy 2.0 typed mappings): :mod:`~.tables` (the
request register and restriction flags), :mod:`~.ledger` (purposes, notices and consent
events, and the gate's source), :mod:`~.requests` (the request register's store) and
:mod:`~.sessions` (the session source they are given). Imports the consent core and
:mod:`audit.storage` (the naming convention and UTC column type), never `identity`."""
