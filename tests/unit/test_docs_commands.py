"""Every ``jati ...`` command that README.md and docs/*.md show exists, with the options shown.

Commands are read from shell code blocks (continued lines joined; pipes, list operators,
redirections and comments end a command) and from inline code, written in usage notation:
``[optional]`` parts, ``A|B`` alternatives, ``...`` repetition and placeholders such as
``ID``; ``make serve|demo ARGS="..."`` counts as ``jati serve|demo ...``. Each is walked
through the parser ``jati`` itself builds (:func:`identity.service.cli.build_parser`), without
running anything: every subcommand must exist, every ``--option`` must belong to the
subcommand it is shown with, and a literal value given to an option with fixed choices must
be one of them. A reader who copies a command from the docs gets a command ``jati`` knows,
and docs/cli.md, the reference, names every command ``jati`` has.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from identity.service.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
#: Fenced code blocks in these languages are not shell and are not read for commands.
NOT_SHELL = frozenset({"python", "py", "pycon", "json", "jsonc", "http", "text", "toml", "yaml"})
#: The program, possibly with a path (``.venv/bin/jati``), followed by its arguments.
PROGRAM = re.compile(r"(?:[\w.~-]*/)*jati(?=[ \t]+\S)")
#: A placeholder value: ``ID``, ``CODE:BASIS``, ``YYYY-MM-DD``, ``<access token>``.
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*(?:[:.-][A-Z0-9_]+)*|<[^>]*>")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
#: The Makefile targets that run ``jati <target> $(ARGS)``: ``make serve ARGS="--port 9000"``.
MAKE_ARGS = re.compile(r"\bmake (serve|demo) ARGS=\"([^\"]*)\"")


@dataclass(frozen=True)
class Shown:
    """One command as a document shows it: where, as written, and its words after ``jati``
    (or why they cannot be read)."""

    where: str
    text: str
    words: tuple[str, ...]
    unreadable: str = ""


# ------------------------------------------------------------------------------ reading


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def commands_in(markdown: str, name: str) -> Iterator[Shown]:
    """Every ``jati`` command in one Markdown document, in order of appearance."""
    lines = markdown.split("\n")
    prose = list(lines)  # the document with fenced blocks blanked, for inline code
    fence, language = "", ""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        opening = FENCE.match(line)
        if not fence and opening:
            fence, language, block = opening.group(1), opening.group(2).lower(), []
            prose[number - 1] = ""
        elif fence:
            prose[number - 1] = ""
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                if language not in NOT_SHELL:
                    yield from _shell_commands(block, name)
                fence = ""
            else:
                block.append((number, line))
    text = "\n".join(prose)
    for match in INLINE_CODE.finditer(text):
        code = match.group(2)
        if "\n\n" in code:
            continue
        code = code.replace("\\|", "|").replace("\n", " ").strip()
        line = text.count("\n", 0, match.start()) + 1
        start = PROGRAM.match(code)
        if start and start.start() == 0:
            yield _shown(f"{name}:{line}", code, code[start.end() :])
        for make in MAKE_ARGS.finditer(code):
            yield _shown(f"{name}:{line}", make.group(0), f"{make.group(1)} {make.group(2)}")


def _shell_commands(block: list[tuple[int, str]], name: str) -> Iterator[Shown]:
    logical: list[tuple[int, str]] = []  # continued lines joined, at their first line
    for number, line in block:
        if logical and logical[-1][1].endswith("\\"):
            first, joined = logical.pop()
            logical.append((first, joined[:-1] + " " + line.strip()))
        else:
            logical.append((number, line.rstrip()))
    for number, line in logical:
        for start, arguments, end in _invocations(line):
            yield _shown(f"{name}:{number}", line[start:end].strip(), line[arguments:end])
        for make in MAKE_ARGS.finditer(line):
            yield _shown(f"{name}:{number}", make.group(0), f"{make.group(1)} {make.group(2)}")


def _invocations(line: str) -> Iterator[tuple[int, int, int]]:
    """Where each ``jati`` invocation on a logical shell line starts, where its arguments
    start, and where the shell command ends. Text in quotes is an argument, never a
    command; a comment is read too (``# or: .venv/bin/jati serve``)."""
    i, quote = 0, ""
    while i < len(line):
        char = line[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif i == 0 or line[i - 1] in " \t;&|(`":
            program = PROGRAM.match(line, i)
            if program:
                end = _command_end(line, program.end())
                yield i, program.end(), end
                i = end
                continue
        i += 1


def _command_end(line: str, start: int) -> int:
    quote, depth = "", 0
    for i in range(start, len(line)):
        char = line[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char in "<>":
            digits = i  # a redirection's file descriptor (2>&1) is not an argument
            while digits > start and line[digits - 1].isdigit():
                digits -= 1
            return digits if digits < i and line[digits - 1] in " \t" else i
        elif char in ";&)`" or (depth == 0 and _ends_command_at(line, i)):
            return i
    return len(line)


def _ends_command_at(line: str, i: int) -> bool:
    """A pipe, or a comment (``#`` starting a word), outside ``[...]``."""
    return line[i] == "|" or (line[i] == "#" and line[i - 1] in " \t")


def _shown(where: str, text: str, arguments: str) -> Shown:
    """The words of ``arguments`` in usage notation, brackets and repetition marks dropped.
    A ``|`` left here separates alternatives: in inline code it always does (``A|B``, or
    ``\\|`` in a table), and a shell pipe has already ended the command unless it stands
    inside ``[...]``."""
    try:
        raw = shlex.split(arguments, posix=True)
    except ValueError as exc:
        return Shown(where, text, (), unreadable=f"cannot read it as a command: {exc}")
    words: list[str] = []
    for shown in raw:
        word, bare = shown, ""
        while bare != word:
            bare, word = word, word.strip("[]").replace("…", "...").removesuffix("...")
        if word and not set(word) <= set(".|"):
            words.append(word)
    return Shown(where, text, tuple(words))


# ------------------------------------------------------------------------------ checking


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return None


def problems_of(shown: Shown, parser: argparse.ArgumentParser) -> list[str]:
    found = [shown.unreadable] if shown.unreadable else list(_walk(parser, ["jati"], shown.words))
    return [f"{shown.where}: `{shown.text}`: {problem}" for problem in found]


def _walk(
    parser: argparse.ArgumentParser, path: list[str], words: tuple[str, ...]
) -> Iterator[str]:
    commands = _subcommands(parser)
    for index, word in enumerate(words):
        if word.startswith("-"):
            yield from _check_option(parser, path, word, words[index + 1 :])
            continue
        if commands is None:
            continue  # a positional value or an option's value
        if PLACEHOLDER.fullmatch(word):  # `jati COMMAND --help`: fine if some command fits
            rest = words[index + 1 :]
            tries = [list(_walk(sub, [*path, n], rest)) for n, sub in sorted(commands.items())]
            if all(tries):
                yield f"no command fits `{' '.join([*path, word, *rest])}`: {tries[0][0]}"
            return
        for name in word.split("|"):
            if name in commands:
                yield from _walk(commands[name], [*path, name], words[index + 1 :])
            else:
                yield (
                    f"`{' '.join([*path, name])}` is not a command "
                    f"(`{' '.join(path)}` has: {', '.join(sorted(commands))})"
                )
        return


def _check_option(
    parser: argparse.ArgumentParser, path: list[str], word: str, following: tuple[str, ...]
) -> Iterator[str]:
    option, equals, inline_value = word.partition("=")
    known = parser._option_string_actions
    for alternative in option.split("|"):
        if alternative not in known:
            options = sorted(o for o in known if o.startswith("--"))
            yield (f"`{' '.join(path)}` has no option {alternative} (it has: {', '.join(options)})")
            continue
        action = known[alternative]
        if not action.choices or action.nargs == 0:
            continue
        value = inline_value if equals else (following[0] if following else "")
        if not value or value.startswith("-") or PLACEHOLDER.fullmatch(value):
            continue
        choices = {str(choice) for choice in action.choices}
        for literal in value.split("|"):
            if literal not in choices:
                yield (
                    f"`{' '.join(path)} {alternative}` does not take {literal!r} "
                    f"(it takes: {', '.join(sorted(choices))})"
                )


def _leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[str]:
    commands = _subcommands(parser)
    if commands is None:
        return {" ".join(path)}
    found: set[str] = set()
    for name, sub in commands.items():
        found |= _leaf_commands(sub, (*path, name))
    return found


# ------------------------------------------------------------------------------ the tests


def _all_shown() -> list[Shown]:
    found: list[Shown] = []
    for path in documents():
        found.extend(commands_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))))
    return found


def test_every_command_the_docs_show_exists_with_the_options_shown() -> None:
    parser = build_parser()
    shown = _all_shown()
    assert len(shown) >= 40, f"only {len(shown)} jati commands found: is the reader broken?"
    problems = [problem for command in shown for problem in problems_of(command, parser)]
    assert not problems, "the docs show commands jati does not have:\n" + "\n".join(problems)


def test_the_command_reference_names_every_command() -> None:
    """docs/cli.md is the reference: each command ``jati`` has is in it."""
    reference = ROOT / "docs" / "cli.md"
    shown = [" ".join(c.words) for c in commands_in(reference.read_text(), "docs/cli.md")]
    expanded = {
        " ".join(variant) for words in shown for variant in _expand_alternatives(words.split())
    }
    missing = sorted(
        leaf
        for leaf in _leaf_commands(build_parser())
        if not any(f"{e} ".startswith(f"{leaf} ") for e in expanded)
    )
    assert not missing, f"docs/cli.md does not show: {', '.join(f'jati {m}' for m in missing)}"


def _expand_alternatives(words: list[str]) -> Iterator[list[str]]:
    if not words:
        yield []
        return
    for head in words[0].split("|"):
        for tail in _expand_alternatives(words[1:]):
            yield [head, *tail]


# ------------------------------------------------------------------------ the checker itself

SAMPLE = r"""
Prose with `jati client show ID [--json]`, `jati client ACTION --help`,
`make demo ARGS="--app-port 9001"` and a table cell
| `jati credential revoke\|suspend\|reinstate ID [--json]` | does |
and `jati audit query [--subject NIK \| --subject-id ID] [--format jsonl\|csv]`.

```sh
echo 'a secret' | .venv/bin/jati citizen add --nik N \
    --name 'Siti jati Rahayu' --birthdate 1990-08-17 --password-stdin > out.json
make serve &          # or: .venv/bin/jati serve --port 9000
jati client add --name "Dinas" --redirect-uri U... --scope "openid nik" \
    [--purpose CODE:BASIS]... --claims C... 2>&1 | jq .client_id
jati requests list --status=completed --limit 5; jati keys list [--json]
```

```python
print("jati not-a-command")
```
"""


def test_the_reader_understands_the_usage_notation() -> None:
    shown = list(commands_in(SAMPLE, "sample.md"))
    by_words = [c.words for c in shown]
    assert by_words == [
        ("citizen", "add", "--nik", "N", "--name", "Siti jati Rahayu", "--birthdate",
         "1990-08-17", "--password-stdin"),
        ("serve", "--port", "9000"),
        ("client", "add", "--name", "Dinas", "--redirect-uri", "U", "--scope", "openid nik",
         "--purpose", "CODE:BASIS", "--claims", "C"),
        ("requests", "list", "--status=completed", "--limit", "5"),
        ("keys", "list", "--json"),
        ("client", "show", "ID", "--json"),
        ("client", "ACTION", "--help"),
        ("demo", "--app-port", "9001"),
        ("credential", "revoke|suspend|reinstate", "ID", "--json"),
        ("audit", "query", "--subject", "NIK", "--subject-id", "ID", "--format", "jsonl|csv"),
    ]  # fmt: skip
    assert shown[0].where == "sample.md:8"
    assert shown[-1].where == "sample.md:5"
    parser = build_parser()
    assert [p for c in shown for p in problems_of(c, parser)] == []


def test_the_checker_catches_a_fake_command_and_a_fake_option() -> None:
    fake = """
`jati client frobnicate --json` and `jati credential revoke|burn ID`, `jati db ACTION --json`
and `make serve ARGS="--threads 2"`

```sh
.venv/bin/jati client add --name X \\
    --no-such-option Y | tee out.txt
jati audit query --format xml --actor A
jati requests list [--status received|lost]
jati client add --name "unclosed
```
"""
    parser = build_parser()
    problems = [p for c in commands_in(fake, "fake.md") for p in problems_of(c, parser)]
    assert len(problems) == 8, problems
    joined = "\n".join(problems)
    assert "fake.md:6: `.venv/bin/jati client add" in joined
    assert '`make serve ARGS="--threads 2"`: `jati serve` has no option --threads' in joined
    assert "`jati client add` has no option --no-such-option" in joined
    assert "does not take 'xml'" in joined
    assert "does not take 'lost'" in joined
    assert "`jati client frobnicate` is not a command" in joined
    assert "`jati credential burn` is not a command" in joined
    assert "no command fits `jati db ACTION --json`" in joined
    assert "cannot read it as a command: No closing quotation" in joined
    assert "tee" not in joined
