"""Jati's consent ledger under UU PDP (Art. 20-26, 9 and 40): purpose-bound, explicit,
provable grants with signed receipts, withdrawable with effect everywhere.

Imports `audit`, never `identity`.
"""
