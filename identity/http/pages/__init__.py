"""The citizen-facing pages (docs/citizens.md, "The pages"): one module a page family (home,
login, logout, activate, passkeys, recovery, totp_setup, devices, consent, account), what
they share (``common``, ``csrf``, ``i18n``, ``sealed_cookies``), their templates, style sheet
and the one passkey script; :mod:`identity.http.pages.routes` gathers them into one router.
Pages may import the cores and :mod:`identity.service.web`; never storage, SQL or
cryptography."""
