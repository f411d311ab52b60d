"""Unit tests of identity.login: acr, remembered devices, throttling, TOTP."""
