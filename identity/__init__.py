"""Jati's identity package: the composition root (settings, app factory, CLI `jati`).

It issues and verifies signed credentials and wires `consent` and `audit` together.
Dependencies point down: ``identity -> consent -> audit``.
"""
