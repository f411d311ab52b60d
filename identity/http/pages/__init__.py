"""The citizen-facing pages (DESIGN.md §4 "Pages"): one module a page family (home, login,
logout, consent, account), what they share (``common``, ``csrf``, ``i18n``), their templates
and style sheet; :mod:`identity.http.pages.routes` gathers them into one router. Pages may
import the cores and :mod:`identity.service.web`; never storage, SQL or cryptography."""
