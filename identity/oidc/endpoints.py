"""The paths of the endpoints where apps authenticate as clients (RFC 6749 §3.2 token, RFC 7009
revocation, RFC 7662 introspection): the routes serve them, discovery publishes them, the
client-assertion audience names the token endpoint (RFC 7523 §3) and the input guard reads
their form bodies strictly."""

__all__ = ["INTROSPECTION_PATH", "OAUTH_FORM_PATHS", "REVOCATION_PATH", "TOKEN_PATH"]

TOKEN_PATH = "/token"  # noqa: S105 - a path, not a secret
REVOCATION_PATH = "/revoke"
INTROSPECTION_PATH = "/introspect"
#: The endpoints whose form bodies the input guard checks before routing.
OAUTH_FORM_PATHS = (TOKEN_PATH, REVOCATION_PATH, INTROSPECTION_PATH)
