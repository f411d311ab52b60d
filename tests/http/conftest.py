"""Fixtures of the tests here: ``world``, the OIDC world of tests/oidc_helpers.py, and
``rp``, a relying app in it. A module that needs them otherwise overrides ``world_settings``
(the settings ``world`` runs with) or defines its own."""

from tests.oidc_helpers import rp, world, world_settings

__all__ = ["rp", "world", "world_settings"]
