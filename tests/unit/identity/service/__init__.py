"""Unit tests of identity.service: settings, log redaction, the plain routes."""
