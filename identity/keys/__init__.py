"""Keys: the master key, keys derived from it (RFC 5869), the sealing (AEAD) of values that
travel through the browser, JWK thumbprints (RFC 7638), the JWS algorithms and the signing
keys' life cycle. A core: imports cryptography, never a framework, and no other identity
package but :mod:`identity.errors`."""
