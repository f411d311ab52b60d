"""Unit tests of identity.credentials: SD-JWT issuance and Token Status Lists."""
