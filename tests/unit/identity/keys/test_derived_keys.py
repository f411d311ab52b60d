"""Every key Jati derives from the master key has a label of its own (RFC 5869 §3.2 ``info``):
the table in :mod:`identity.keys.derived_keys` is complete and every derivation names one of
its labels; no label repeats, none is a prefix of another (the demo's label takes a client id
after it), and each derives a different key."""

from __future__ import annotations

import ast
from pathlib import Path

from identity.keys import derived_keys
from identity.keys.derived_keys import LABELS, derive_key

ROOT = Path(__file__).resolve().parents[4]


def test_no_label_repeats_or_prefixes_another() -> None:
    assert len(set(LABELS)) == len(LABELS)
    for label in LABELS:
        assert not any(other != label and other.startswith(label) for other in LABELS), label


def test_the_table_lists_every_label_constant() -> None:
    constants = {
        value
        for name, value in vars(derived_keys).items()
        if name.isupper() and isinstance(value, bytes)
    }
    assert constants == set(LABELS)


def test_every_derivation_names_a_label_of_the_table() -> None:
    # derive_key(master, LABEL[, length]) with LABEL one of the table's names, never a literal;
    # the sealers derive from the label their callers give them, so their callers are checked,
    # a DerivedKeyHolder from its class's LABEL, so every `LABEL = ...` is checked, and a
    # SealedCookie from its subclass's key_label, so every `key_label=...` is checked.
    derivers = {"derive_key", "SivSealer", "GcmSealer"}
    table = {name for name in vars(derived_keys) if name.isupper()}
    found = []
    for path in sorted((ROOT / "identity").rglob("*.py")):
        if "migrations" in path.parts or path.name == "sealing.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if [getattr(target, "id", None) for target in targets] == ["LABEL"]:
                assert isinstance(node, ast.Assign)
                label: ast.expr | None = node.value
            elif isinstance(node, ast.Call) and any(k.arg == "key_label" for k in node.keywords):
                # a SealedCookie's subclass names its label as the key_label keyword
                label = next(k.value for k in node.keywords if k.arg == "key_label")
            else:
                func = node.func if isinstance(node, ast.Call) else None
                if getattr(func, "id", getattr(func, "attr", None)) not in derivers:
                    continue
                assert isinstance(node, ast.Call)
                label = node.args[1] if len(node.args) > 1 else None
                if isinstance(label, ast.Attribute) and label.attr == "LABEL":
                    continue  # the holder's own derivation: its subclasses' LABELs are checked
                if isinstance(label, ast.Name) and label.id == "key_label":
                    continue  # SealedCookie passes its subclass's key_label, checked above
            names = {n.id for n in ast.walk(label) if isinstance(n, ast.Name)} if label else set()
            if not names & table:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_each_label_derives_its_own_key() -> None:
    master = bytes(range(32))
    keys = {derive_key(master, label) for label in LABELS}
    assert len(keys) == len(LABELS)
