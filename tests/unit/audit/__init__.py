"""Unit tests of the audit package's core: entries, Merkle properties, the witness state."""
