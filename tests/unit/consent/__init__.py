"""Unit tests of the consent package's core."""
