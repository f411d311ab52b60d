"""Unit tests of identity's packages, one folder a package (no database, no server)."""
