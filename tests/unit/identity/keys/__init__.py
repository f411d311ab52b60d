"""Unit tests of identity.keys: derived keys and the JWS algorithms."""
