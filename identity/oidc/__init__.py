"""The OpenID Connect provider's logic, framework-free: relying apps (clients), client
authentication, the authorization endpoint, codes and PKCE, the token endpoint's grants,
refresh-token families, tokens, logout, pairwise subjects and the release of claims."""
