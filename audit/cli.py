"""Command-line adapter of the audit log: ``jati audit checkpoint|verify|query|key|breach-report``.

The functions here print to the streams they are given; ``identity.service.cli`` wires them to the
``jati`` command. Progress goes to stderr, and only when it is a terminal.

Queries from the command line are recorded in the log like the HTTP API's (UU PDP Art. 31),
with the operator as actor: ``cli/<OS user name>`` (:func:`cli_actor`).
"""

from __future__ import annotations

import csv
import getpass
import json
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TextIO

from audit.breach import AffectedSubject, BreachFindings, BreachWindow, collect_breach
from audit.entry import Actor, ActorKind, AuditEntry, decode_entry, format_time
from audit.errors import InvalidEntry
from audit.log import AuditLog
from audit.records import EventFilter, StoredLeaf, auditor_query_entry
from audit.storage.store import SqlAuditStore
from audit.storage.verification import verify_stored_log
from audit.verify import VerifyReport

CSV_FIELDS = (
    "leaf_index", "time", "actor_kind", "actor_id", "subject", "action", "data_items",
    "purpose", "legal_basis", "consent_id", "request_id", "outcome", "exception_basis",
    "citizen_visible", "visible_after",
)  # fmt: skip


class Progress:
    """A one-line progress meter on a terminal (silent otherwise), at most 10 updates/s."""

    def __init__(self, stream: TextIO, what: str, total: int | None = None) -> None:
        self.stream = stream
        self.what = what
        self.total = total
        self.enabled = stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        rate = done / max(now - self._started, 1e-9)
        share = f" / {self.total:,} ({100 * done / self.total:.0f}%)" if self.total else ""
        self.stream.write(f"\r{self.what} {done:,}{share}, {rate:,.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def checkpoint(audit_log: AuditLog, out: TextIO) -> None:
    """Integrate what is queued, sign a checkpoint if the tree grew, print the latest."""
    audit_log.initialize()
    audit_log.sequence(checkpoint=True)
    out.write(audit_log.checkpoint().note)


def verify(
    audit_log: AuditLog,
    store: SqlAuditStore,
    out: TextIO,
    err: TextIO,
    *,
    external_checkpoints: Sequence[str] = (),
) -> VerifyReport:
    """Recompute the whole log and check it against every stored checkpoint and against
    ``external_checkpoints`` (signed notes kept outside the database)."""
    state = store.tree_state()
    total = state.tree_size if state else None
    progress = Progress(err, "verified leaves", total)
    try:
        report = verify_stored_log(
            audit_log, store, external_checkpoints=external_checkpoints, progress=progress
        )
    finally:
        progress.close()
    if report.ok:
        out.write(
            f"OK: {report.leaves_checked:,} entries, {report.checkpoints_checked:,} checkpoints "
            f"and {report.nodes_checked:,} subtree hashes verified; origin {audit_log.origin}\n"
        )
    else:
        for finding in report.findings:
            err.write(f"FAIL [{finding.kind}] {finding.message}\n")
        err.write(
            f"audit log verification FAILED: {len(report.findings)} problem(s) in "
            f"{report.leaves_checked:,} entries\n"
        )
    return report


def query(audit_log: AuditLog, flt: EventFilter, fmt: str, out: TextIO, err: TextIO) -> int:
    """Stream matching events as JSON lines or CSV in constant memory; return the count."""
    progress = Progress(err, "events")
    count = 0
    writer = (
        csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n") if fmt == "csv" else None
    )
    if writer is not None:
        writer.writeheader()
    try:
        for row in _decoded(audit_log, flt):
            if writer is not None:
                writer.writerow(_csv_row(row))
            else:
                out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
            progress(count)
    finally:
        progress.close()
    return count


def _decoded(audit_log: AuditLog, flt: EventFilter) -> Iterator[dict[str, object]]:
    for leaf in audit_log.events(flt):
        try:
            fields = decode_entry(leaf.entry).to_json_dict()
        except InvalidEntry:
            fields = {"invalid_entry": True}
        yield {"leaf_index": leaf.leaf_index, **fields}


def _csv_row(row: dict[str, object]) -> dict[str, object]:
    actor = row.get("actor")
    flat = {k: row.get(k) for k in CSV_FIELDS if k not in ("actor_kind", "actor_id")}
    if isinstance(actor, dict):
        flat["actor_kind"], flat["actor_id"] = actor.get("kind"), actor.get("id")
    items = row.get("data_items")
    flat["data_items"] = ";".join(items) if isinstance(items, list) else ""
    flat["citizen_visible"] = "true" if row.get("citizen_visible") else "false"
    return flat


# ---------------------------------------------------------------- who ran the command


_NOT_IN_ACTOR_ID = re.compile(r"[^A-Za-z0-9._-]+")


def cli_actor(user: str | None = None) -> Actor:
    """The operator running a command, as an audit actor: ``cli/<OS user name>``.

    The name is reduced to the characters an actor id allows; a name that would still look
    like personal data (an email address, a 16-digit NIK) or is unknown gives ``cli/unknown``.
    """
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (containers)
            user = ""
    name = _NOT_IN_ACTOR_ID.sub("-", user).strip("-._")[:100] or "unknown"
    try:
        return Actor(kind=ActorKind.OFFICIAL, id=f"cli/{name}")
    except InvalidEntry:
        return Actor(kind=ActorKind.OFFICIAL, id="cli/unknown")


def query_entry(
    audit_log: AuditLog, flt: EventFilter, *, actor: Actor, subject_given_as: str | None
) -> AuditEntry:
    """The entry recording ``jati audit query`` (see :func:`audit.records.auditor_query_entry`).

    ``subject_given_as`` names how the operator named the citizen (``nik``, ``subject-id``
    or ``subject`` for a pseudonym), so the record shows that a NIK was looked up without
    holding it.
    """
    names = tuple(name for name in flt.names() if name != "subject")
    return auditor_query_entry(
        time=audit_log.clock(),
        actor=actor,
        resource="events",
        filters=(subject_given_as, *names) if subject_given_as else names,
        subject=flt.subject,
    )


# ---------------------------------------------------------------- breach report


BREACH_CSV_FIELDS = (
    "citizen_id", "subject", "data_items", "actions", "first_access", "last_access", "accesses",
)  # fmt: skip
CONTACT_FIELDS = ("email", "phone", "erased")

CitizenIds = Callable[[Collection[str]], Mapping[str, str]]
"""Pseudonyms -> the citizen ids behind them (those that belong to a citizen)."""
ContactReader = Callable[[str], Mapping[str, str | None] | None]
"""A citizen id -> its contact fields read through the audited path; None when erased."""


def breach_report(
    audit_log: AuditLog,
    window: BreachWindow,
    fmt: str,
    out: TextIO,
    err: TextIO,
    *,
    citizen_ids: CitizenIds,
    contact: ContactReader | None = None,
) -> BreachFindings:
    """Write the UU PDP Art. 46 report of ``window``: one row per affected citizen.

    Each row: the citizen's internal id (null when the pseudonym is no registered citizen's)
    and audit pseudonym, the data items and actions of the actor's entries about them, the
    first and last access, and the number of entries. No NIK and no name. With ``contact``,
    the email and phone to send the notice to, each read recorded by the reader (the one
    audited access path to personal data) under purpose ``breach-notification``.

    ``fmt`` is ``json`` (one JSON object, written row by row) or ``csv`` (a header, then
    rows). The log is streamed page by page; memory grows with the affected citizens only.
    """
    progress = Progress(err, "entries scanned")

    def counted(leaves: Iterable[StoredLeaf]) -> Iterator[StoredLeaf]:
        for done, leaf in enumerate(leaves, 1):
            progress(done)
            yield leaf

    try:
        findings = collect_breach(window, counted(audit_log.events(window.event_filter())))
    finally:
        progress.close()
    ids = citizen_ids(findings.affected.keys()) if findings.affected else {}
    rows = (
        _breach_row(affected, ids.get(affected.subject), contact)
        for affected in findings.affected.values()
    )
    if fmt == "csv":
        fields = BREACH_CSV_FIELDS + (CONTACT_FIELDS if contact is not None else ())
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(_breach_csv_row(row))
        return findings
    header = {
        "report": "uu-pdp-art-46-breach",
        "actor": window.actor_id,
        "since": format_time(window.since),
        "until": format_time(window.until),
        "affected_citizens": len(findings.affected),
        "entries": findings.entries,
        "entries_without_subject": findings.without_subject,
        "entries_not_successful": findings.not_successful,
        "invalid_entries": findings.invalid_entries,
    }
    out.write(_dumps(header)[:-1] + ',"citizens":[')
    for n, row in enumerate(rows):
        out.write(("," if n else "") + "\n" + _dumps(row))
    out.write("\n]}\n")
    return findings


def _breach_row(
    affected: AffectedSubject, citizen_id: str | None, contact: ContactReader | None
) -> dict[str, object]:
    row: dict[str, object] = {
        "citizen_id": citizen_id,
        "subject": affected.subject,
        "data_items": sorted(affected.data_items),
        "actions": sorted(affected.actions),
        "first_access": format_time(affected.first_access),
        "last_access": format_time(affected.last_access),
        "accesses": affected.accesses,
    }
    if contact is not None:
        found = contact(citizen_id) if citizen_id is not None else None
        row["email"] = found.get("email") if found is not None else None
        row["phone"] = found.get("phone") if found is not None else None
        row["erased"] = citizen_id is not None and found is None
    return row


def _breach_csv_row(row: dict[str, object]) -> dict[str, object]:
    flat = dict(row)
    for name in ("data_items", "actions"):
        values = row[name]
        flat[name] = ";".join(values) if isinstance(values, list) else ""
    if "erased" in row:
        flat["erased"] = "true" if row["erased"] else "false"
    return flat


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
