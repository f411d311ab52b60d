"""The shape of identity/ (issue 16), checked on the source with :mod:`ast`:

- ``identity.http`` holds routes and pages only: no SQL and no cryptography (they live in
  ``identity.storage`` and ``identity.keys``);
- ``identity.service`` is the composition root: the only package with ``build_*`` factories
  and the only one outside storage that constructs a store;
- every package says in its ``__init__`` docstring what it holds;
- modules and functions stay small enough to read (tables aside).

Each rule has a control test proving it catches a violation."""

from __future__ import annotations

import ast

import pytest

from tests.source_tree import ROOT, imported_names, python_modules

#: What the HTTP layer never imports: SQL, cryptography, any package's storage.
HTTP_FORBIDDEN = (
    "sqlalchemy",
    "cryptography",
    "nacl",
    "hmac",
    "hashlib",
    "identity.storage",
    "consent.storage",
    "audit.storage",
)
MODULE_LINES = 520
FUNCTION_LINES = 85
#: Tables, not logic: the pages' words in two languages.
SIZE_EXEMPT = {"identity/http/pages/i18n.py"}


def http_violations(module: str, source: str) -> list[str]:
    """What an ``identity.http`` module imports that the layer must not hold."""
    found = []
    for name in sorted(imported_names(source, module, members=True)):
        if any(name == bad or name.startswith(bad + ".") for bad in HTTP_FORBIDDEN):
            found.append(f"{module} imports {name}")
    return found


def _store_classes() -> set[str]:
    names = set()
    for path in python_modules(
        "identity/storage", "consent/storage", "audit/storage", skip_migrations=True
    ).values():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Sql"):
                names.add(node.name)
    return names


def builder_violations(module: str, source: str, stores: set[str]) -> list[str]:
    """``build_*`` factories and store constructions outside ``identity.service``."""
    if module.startswith("identity.service"):
        return []
    tree = ast.parse(source)
    found = [
        f"{module}: def {node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("build_")
    ]
    if module.startswith("identity.storage"):
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in stores:
                found.append(f"{module}:{node.lineno} constructs {name}")
    return found


def size_violations(relative: str, source: str) -> list[str]:
    """A module over :data:`MODULE_LINES` lines, a function over :data:`FUNCTION_LINES`."""
    if relative in SIZE_EXEMPT:
        return []
    found = []
    lines = source.count("\n")
    if lines > MODULE_LINES:
        found.append(f"{relative}: {lines} lines")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > FUNCTION_LINES:
                found.append(f"{relative}:{node.lineno} {node.name}: {length} lines")
    return found


def test_http_holds_no_sql_and_no_cryptography() -> None:
    violations = []
    for module, path in python_modules("identity/http", skip_migrations=True).items():
        violations += http_violations(module, path.read_text())
    assert violations == []


def test_the_http_rule_catches_sql_and_cryptography() -> None:
    assert http_violations("identity.http.x", "from sqlalchemy import select\n")
    assert http_violations("identity.http.x", "import hmac\n")
    assert http_violations("identity.http.x", "from identity.storage.keys import jwks\n")
    assert http_violations("identity.http.x", "from identity import storage\n")
    assert http_violations("identity.http.x", "from identity import errors\n") == []
    assert http_violations("identity.http.x", "from identity.keys import sealing\n") == []


def test_only_the_service_package_builds() -> None:
    stores = _store_classes()
    assert "SqlAuditStore" in stores and "SqlClientStore" in stores
    violations = []
    for module, path in python_modules("identity", skip_migrations=True).items():
        violations += builder_violations(module, path.read_text(), stores)
    assert violations == []


def test_the_builder_rule_catches_a_factory_and_a_store_built_elsewhere() -> None:
    stores = {"SqlClientStore"}
    assert builder_violations("identity.oidc.x", "def build_it():\n    pass\n", stores)
    assert builder_violations("identity.http.x", "s = SqlClientStore(database=d)\n", stores)
    assert (
        builder_violations("identity.service.x", "s = SqlClientStore(database=d)\n", stores) == []
    )


def test_every_package_says_what_it_holds() -> None:
    silent = []
    for init in sorted((ROOT / "identity").rglob("__init__.py")):
        if "migrations" in init.parts:
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        if len(docstring.split()) < 12:
            silent.append(str(init.relative_to(ROOT)))
    assert silent == []


@pytest.mark.parametrize("package", ["identity", "consent", "audit"])
def test_modules_and_functions_stay_small(package: str) -> None:
    violations = []
    for path in python_modules(package, skip_migrations=True).values():
        violations += size_violations(str(path.relative_to(ROOT)), path.read_text())
    assert violations == []


def test_the_size_rule_catches_a_long_function_and_a_long_module() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(FUNCTION_LINES))
    assert size_violations("identity/x.py", "def f():\n" + body)
    assert size_violations("identity/x.py", "x = 1\n" * (MODULE_LINES + 1))
    assert size_violations("identity/http/pages/i18n.py", "x = 1\n" * (MODULE_LINES + 1)) == []
