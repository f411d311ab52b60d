"""The OpenID Connect provider's logic, framework-free: relying apps (clients), client
authentication, the authorization endpoint, codes and PKCE, the token endpoint and its
grants (:mod:`identity.oidc.grants`), userinfo, token revocation and introspection, the
checks of access tokens presented back, refresh-token families, tokens, logout, pairwise
subjects and the release of claims."""
