"""Signing in: server-side sessions and their browser summaries, throttling, TOTP (RFC 6238),
remembered devices, the authentication context (``acr``) a session meets, and getting in and
back in: activation and recovery codes (NIST SP 800-63B look-up secrets), passkeys (WebAuthn
Level 3 through Yubico's ``fido2``) and the account-security audit entries. A core: no
framework."""
