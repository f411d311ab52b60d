"""The token endpoint's grants, one module each, framework-free: the authorization code
exchange (RFC 6749 §4.1.3, RFC 7636 §4.6), the refresh token's rotation (RFC 6749 §6, with
its event-loop fast path) and client credentials (RFC 6749 §4.4). The dispatcher choosing
among them is :mod:`identity.oidc.token_endpoint`.

A grant may import what the token endpoint's grants share (:mod:`identity.oidc.issuance`),
the other cores of :mod:`identity.oidc` below the token endpoint (codes, PKCE, refresh
families, tokens, revocation), :mod:`identity.errors`, :mod:`identity.storage.housekeeping`
and the audit and consent packages; never the token endpoint, another grant, or a framework.
"""
