"""Jati's consent ledger under UU PDP (Art. 20-26, 9 and 40): purpose-bound, explicit,
provable grants with signed receipts, withdrawable with effect everywhere.

Holds the core (no web or database framework): :mod:`~consent.purposes` (an app's purposes
and their data items), :mod:`~consent.notices` (privacy notices, Art. 21),
:mod:`~consent.grants` (consent events and the grants derived from them),
:mod:`~consent.ledger` (recording decisions, withdrawals and expiries, audited),
:mod:`~consent.gate` (the check before every release, cached across workers),
:mod:`~consent.receipts` (signed consent receipts), :mod:`~consent.requests` (data-subject
requests, Art. 14) and :mod:`~consent.errors`; and the adapters :mod:`~consent.storage`
(SQLAlchemy), :mod:`~consent.http` (FastAPI) and :mod:`~consent.cli`.

Imports `audit`, never `identity`.
"""
