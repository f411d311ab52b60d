"""``jati citizen import FILE.csv --codes-out FILE [--rejects FILE] [--check-conflicts]
[--json]``: a population register's export, registered in batches with an activation code
each (:mod:`identity.citizens.population_import`).

The files:

- the input, UTF-8 CSV (a BOM is accepted) with the header ``nik,name,birthdate`` and
  optionally ``email``, ``phone``, ``address``; read as a stream (memory stays bounded by
  one batch). A wrong header is refused (exit 2) before any file is created;
- ``--codes-out``, the CSV ``nik,activation_code`` for a mailing system: created with mode
  0600, never over an existing file (exit 2), and flushed to disk before each batch commits;
  it holds secrets, which stderr says;
- ``--rejects``, the CSV ``line,reason`` of the rows not registered (the reason names the
  field and the rule, never a value; without the option each goes to stderr).

Ctrl-C finishes the batch under way (a second one rolls it back), prints how far the import
got and exits 130; the same command with a new ``--codes-out`` file resumes (the NIKs done
are skipped). Progress goes to stderr: a meter on a terminal, else a line every
:data:`PLAIN_PROGRESS_ROWS` rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, BinaryIO, TextIO

from identity.service.cli import common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from audit.entry import Actor
    from identity.citizens.population_import import ImportSummary
    from identity.citizens.service import CitizenService
    from identity.storage.database import Database

#: Builds the citizen service the import registers through (its cipher, pseudonymizer, clock).
CitizenServiceOn = Callable[[Settings, "Database", bytes], "CitizenService"]

#: Without a terminal on stderr, one progress line per this many rows.
PLAIN_PROGRESS_ROWS = 50_000
EXIT_INTERRUPTED = 130  # 128 + SIGINT
CODES_WARNING = (
    "{path} holds activation codes, secrets that open citizens' accounts (mode 0600): hand "
    "it to the mailing system, then delete it."
)


def add_import_command(citizen: common.Commands, handler: common.Handler) -> None:
    """``jati citizen import`` in the ``citizen`` group, run by ``handler``."""
    command = citizen.add_parser(
        "import",
        help="register the citizens of a population register's CSV export "
        "(nik,name,birthdate[,email,phone,address]), each with an activation code written "
        "to --codes-out; re-running skips the NIKs done",
    )
    command.add_argument("file", type=Path, metavar="FILE.csv")
    command.add_argument(
        "--codes-out",
        required=True,
        type=Path,
        metavar="FILE",
        help="new file (mode 0600) for the nik,activation_code CSV; never overwritten",
    )
    command.add_argument(
        "--rejects", type=Path, metavar="FILE", help="the line,reason CSV of rows not registered"
    )
    command.add_argument(
        "--check-conflicts",
        action="store_true",
        help="compare the name and birth date of each NIK already registered (one audited "
        "read per such citizen, in their log) instead of skipping it",
    )
    common.add_json_option(command)
    command.set_defaults(handler=handler)


class CodesFile:
    """The ``nik,activation_code`` CSV (:class:`~identity.citizens.population_import.CodeSink`),
    created 0600 and exclusively; each batch is on disk (fsync) before it commits, and
    :meth:`undo` truncates a batch that rolled back."""

    def __init__(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise common.UsageError(
                f"{path} exists: the codes go to a new file (it is never overwritten)"
            ) from None
        except OSError as exc:
            raise common.UsageError(f"cannot create {path}: {exc.strerror}") from None
        os.fchmod(fd, 0o600)  # whatever the umask
        self.path = path
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(("nik", "activation_code"))
        self._mark = self._sync()

    def write(self, issued: Sequence[tuple[str, str]]) -> None:
        self._mark = self._file.tell()
        self._writer.writerows(issued)
        self._sync()

    def undo(self) -> None:
        self._file.seek(self._mark)
        self._file.truncate()
        self._sync()

    def close(self) -> None:
        self._file.close()

    def _sync(self) -> int:
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()


class Rejects:
    """``line,reason`` rows: to the ``--rejects`` CSV, a new file (never over an existing one,
    such as the register itself), or to stderr."""

    def __init__(self, path: Path | None, err: TextIO) -> None:
        self._err = err
        self._file: TextIO | None = None
        if path is not None:
            try:
                self._file = path.open("x", encoding="utf-8", newline="")
            except FileExistsError:
                raise common.UsageError(
                    f"{path} exists: the rejects go to a new file (it is never overwritten)"
                ) from None
            except OSError as exc:
                raise common.UsageError(f"cannot create {path}: {exc.strerror}") from None
            self._writer = csv.writer(self._file, lineterminator="\n")
            self._writer.writerow(("line", "reason"))

    def __call__(self, line: int, reason: str) -> None:
        if self._file is None:
            self._err.write(f"line {line}: {reason}\n")
        else:
            self._writer.writerow((line, reason))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class ImportProgress:
    """Rows done, rate and (from the bytes read of the file's size) share and time left: a
    meter redrawn on a terminal, else a plain line every :data:`PLAIN_PROGRESS_ROWS` rows."""

    def __init__(self, err: TextIO, position: Callable[[], int], size: int) -> None:
        self._err = err
        self._position = position
        self._size = size
        self._terminal = err.isatty()
        self._next_line = PLAIN_PROGRESS_ROWS

    def __call__(self, summary: ImportSummary) -> None:
        rows, seconds = summary.rows, max(summary.seconds, 1e-9)
        if not self._terminal and rows < self._next_line:
            return
        self._next_line = rows + PLAIN_PROGRESS_ROWS
        share = min(self._position() / self._size, 1.0) if self._size else 0.0
        left = f", {_duration(seconds * (1 - share) / share)} left" if share > 0 else ""
        text = f"{rows:,} rows ({100 * share:.0f}%), {rows / seconds:,.0f} rows/s{left}"
        self._err.write(f"\r{text}\x1b[K" if self._terminal else text + "\n")
        self._err.flush()

    def close(self) -> None:
        if self._terminal:
            self._err.write("\r\x1b[K")
            self._err.flush()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@contextmanager
def _stop_on_sigint(err: TextIO) -> Iterator[Callable[[], bool]]:
    """``stop()`` turns true at the first Ctrl-C (the batch under way finishes); a second
    raises :class:`KeyboardInterrupt` (the batch rolls back)."""
    asked: list[bool] = []

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(True)
        err.write("\nstopping after this batch (Ctrl-C again: stop now, rolling it back)\n")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


def _open_input(path: Path) -> tuple[BinaryIO, TextIO]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise common.UsageError(f"cannot read {path}: {exc.strerror}") from None
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return raw, text


def run_import(
    args: argparse.Namespace, settings: Settings, *, citizens: CitizenServiceOn, actor: Actor
) -> int:
    """The command: the file checked, then the import run, then the summary printed."""
    from identity.citizens.register_export import read_rows
    from identity.errors import InvalidInput
    from identity.service.factories import build_population_import

    err = sys.stderr
    with ExitStack() as files:
        raw, text = _open_input(args.file)
        files.callback(text.close)
        try:
            rows = read_rows(text)
        except InvalidInput as exc:
            raise common.UsageError(f"{args.file}: {exc}") from None
        database, master_key = files.enter_context(common.checked_database_and_key(settings))
        rejects = Rejects(args.rejects, err)  # first: a refused path leaves no codes file
        files.callback(rejects.close)
        codes = CodesFile(args.codes_out)
        files.callback(codes.close)
        err.write(CODES_WARNING.format(path=args.codes_out) + "\n")
        population = build_population_import(
            settings, database, citizens(settings, database, master_key)
        )
        progress = ImportProgress(err, raw.tell, os.fstat(raw.fileno()).st_size)
        files.callback(progress.close)
        stop = files.enter_context(_stop_on_sigint(err))
        summary = population.run(
            rows, actor=actor, codes=codes, reject=rejects,
            check_conflicts=args.check_conflicts, stop=stop, progress=progress,
        )  # fmt: skip
    counts = (
        f"{summary.imported} imported, {summary.skipped} skipped (registered already), "
        f"{summary.rejected} rejected, {summary.conflicts} conflicts"
    )
    if summary.interrupted:
        err.write(
            f"interrupted after line {summary.last_line}: {counts}. The same command with a "
            "new --codes-out file resumes (the NIKs done are skipped).\n"
        )
    common.print_result(args.json, summary.to_json(), [f"{counts} in {summary.seconds:.1f} s"])
    return EXIT_INTERRUPTED if summary.interrupted else common.EXIT_OK
