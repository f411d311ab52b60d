"""The composition root: settings, the app, the server, the CLI, logging, and the web and database
plumbing every route and store relies on. Only this package builds objects; it may import
every other package of identity, consent and audit."""
