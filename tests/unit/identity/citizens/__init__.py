"""Unit tests of identity.citizens: the citizen service, field encryption, passwords and the
hashing pool."""
