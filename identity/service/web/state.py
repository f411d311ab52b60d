"""The routes' typed way to the service's objects: :func:`services` reads the
:class:`~identity.service.services.Services` the app was built with (``app.state.services``)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from identity.service.services import Services

__all__ = ["services"]


def services(connection: HTTPConnection) -> Services:
    """The app's services (set once by :func:`identity.service.app.create_app`)."""
    found: Services = connection.app.state.services
    return found
