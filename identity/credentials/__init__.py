"""Verifiable credentials: SD-JWT (RFC 9901) issuance of the SD-JWT VC, holder proofs, and Token
Status Lists (encoding and registry). A core: no framework."""
