"""Unit tests of the SDK, identity.relying_party: tokens, SD-JWT presentations, status lists."""
