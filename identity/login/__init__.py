"""Signing in: server-side sessions, throttling, TOTP (RFC 6238), remembered devices and the
authentication context (``acr``) a session meets. A core: no framework."""
