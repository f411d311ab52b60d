"""The HTTP routes of the identity service, one module per endpoint family (OpenID Connect,
discovery, introspection, status lists, credentials, the citizen API, login) and the pages
(:mod:`identity.http.pages`). A route parses the request, calls a core service and shapes
the answer: no SQL and no cryptography here (``tests/unit/test_layers.py`` checks). Routes
may import the cores, :mod:`identity.errors` and :mod:`identity.service.web`."""
