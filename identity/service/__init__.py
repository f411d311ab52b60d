"""The composition root: :mod:`~identity.service.services` builds every object once into the
typed :class:`~identity.service.services.Services`; :mod:`~identity.service.factories` builds
one service at a time (for the ``jati`` commands); :mod:`~identity.service.app` mounts the
routes and middleware and runs :mod:`~identity.service.background`'s tasks; ``cli/`` is the
``jati`` command line, ``web/`` the plumbing every route shares, ``database/`` the schema's
migrations and grants; settings, server, demo and logging beside them. Only this package
builds objects; it may import every other package of identity, consent and audit, and nothing
imports it but the routes (through :func:`identity.service.web.state.services`) and the
web plumbing."""
