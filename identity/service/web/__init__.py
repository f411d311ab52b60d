"""Web plumbing shared by every route: problem documents (RFC 9457), middleware, security
headers, metrics, health, input guards and the OpenAPI document. May import the cores and
the frameworks (Starlette, FastAPI); never storage."""
