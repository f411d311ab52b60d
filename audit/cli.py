"""Command-line adapter of the audit log: ``jati audit checkpoint|verify|query|key``.

The functions here print to the streams they are given; ``identity.cli`` wires them to the
``jati`` command. Progress goes to stderr, and only when it is a terminal.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator, Sequence
from typing import TextIO

from audit.entry import decode_entry
from audit.errors import InvalidEntry
from audit.log import AuditLog
from audit.records import EventFilter
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
