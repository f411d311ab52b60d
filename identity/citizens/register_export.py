"""A population register's export as ``jati citizen import`` reads it
(:mod:`identity.citizens.population_import`): UTF-8 CSV with the header
``nik,name,birthdate`` and optionally ``email``, ``phone``, ``address``, read as a stream
of :class:`ImportRow` in batches. Values are not checked here (the import validates them as
registration does); a row that cannot be read at all carries why, never its values.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from identity.errors import InvalidImportFile

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "ImportRow", "batches", "read_rows"]

REQUIRED_COLUMNS = ("nik", "name", "birthdate")
OPTIONAL_COLUMNS = ("email", "phone", "address")


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row of the file as read (values unchecked); ``repr`` shows the line alone."""

    line: int
    nik: str = field(repr=False)
    name: str = field(repr=False)
    birthdate: str = field(repr=False)
    email: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    address: str | None = field(default=None, repr=False)
    #: Why the row cannot be read at all (a wrong number of columns), else "".
    unreadable: str = ""


def read_rows(lines: Iterable[str]) -> Iterator[ImportRow]:
    """The rows of a CSV export (``lines`` as :func:`open` gives them with ``newline=""``;
    a UTF-8 BOM already removed): the header is checked when the iterator is created, so a
    wrong one raises before anything is read further. Blank lines are passed over.

    Raises:
        InvalidImportFile: the header is not ``nik,name,birthdate`` followed by any of
            ``email``, ``phone``, ``address`` (each at most once).
    """
    reader = csv.reader(lines)
    header = [name.strip().lower() for name in next(reader, [])]
    optional = header[len(REQUIRED_COLUMNS) :]
    if (
        tuple(header[: len(REQUIRED_COLUMNS)]) != REQUIRED_COLUMNS
        or not set(optional) <= set(OPTIONAL_COLUMNS)
        or len(set(optional)) != len(optional)
    ):
        raise InvalidImportFile(
            "the first line must be the header nik,name,birthdate, optionally followed by "
            "email, phone and address"
        )
    return _rows(reader, header)


def _rows(reader: Any, header: list[str]) -> Iterator[ImportRow]:
    end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv module's limit, a NUL: that row only
            line, end = end + 1, reader.line_num
            # the csv module's messages name the fault, never the cell's value
            yield ImportRow(line, "", "", "", unreadable=f"not a CSV row: {exc}")
            continue
        line, end = end + 1, reader.line_num
        if not cells:
            continue
        if len(cells) != len(header) or any(_unencodable(cell) for cell in cells):
            reason = (
                f"expected {len(header)} columns, found {len(cells)}"
                if len(cells) != len(header)
                else "not UTF-8 text"
            )
            yield ImportRow(line, "", "", "", unreadable=reason)
            continue
        values = dict(zip(header, cells, strict=True))
        yield ImportRow(
            line,
            nik=values["nik"],
            name=values["name"],
            birthdate=values["birthdate"],
            email=values.get("email") or None,
            phone=values.get("phone") or None,
            address=values.get("address") or None,
        )


def _unencodable(cell: str) -> bool:
    """A cell holding bytes that were not UTF-8 (read with ``errors="surrogateescape"``)."""
    try:
        cell.encode()
    except UnicodeEncodeError:
        return True
    return False


def batches(rows: Iterable[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    """``rows`` in lists of ``size`` (the last one shorter), read as they are needed."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
