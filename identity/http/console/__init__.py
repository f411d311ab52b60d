"""The console (issue 20): pages for the people who run and oversee Jati, apart from the
citizens' pages: :mod:`~identity.http.console.access` (the console session and the role
each page needs: 401 without a console session, a citizen's included; 403 for another role)
and :mod:`~identity.http.console.pages` (activation, sign-in with a mandatory second factor,
the home page, service status for operators, log integrity for auditors). The pages share
the citizens' pages' rules (:mod:`identity.http.pages.common`): both languages, CSRF,
``no-store``, no inline script.
"""
