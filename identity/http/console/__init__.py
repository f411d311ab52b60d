"""The console (issue 20): pages for the people who run and oversee Jati, apart from the
citizens' pages: :mod:`~identity.http.console.access` (the console session and the role
each page needs: 401 without a console session, a citizen's included; 403 for another role)
and :mod:`~identity.http.console.pages` (activation, sign-in with a mandatory second factor,
the home page, service status for operators, log integrity for auditors). The operator's
pages: :mod:`~identity.http.console.operator` (apps, their secrets and purposes, signing
keys), :mod:`~identity.http.console.app_settings` (one app's redirect URIs, disabling it)
and :mod:`~identity.http.console.notices` (notices by form, preview, versions and changes).
The auditor's: :mod:`~identity.http.console.auditor` (the log's search and its entries).
The DPO's and auditor's: :mod:`~identity.http.console.dpo` (the Art. 46 breach report).
The pages share the citizens' pages' rules (:mod:`identity.http.pages.common`): both
languages, CSRF, ``no-store``, no inline script.
"""
