"""Unit tests of identity.oidc: authorization, clients and their authentication, PKCE, tokens."""
