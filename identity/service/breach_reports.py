"""The UU PDP Art. 46 breach report as the console's DPO page makes it
(:mod:`identity.http.console.dpo`), with what ``jati audit breach-report`` uses: the report
recorded first as an auditor's query under the staff member, the affected citizens' ids
found behind their pseudonyms (:func:`identity.storage.auditor_lookup.citizen_ids_for`),
and contacts, when asked, read one by one through the citizens' audited access path
(:class:`identity.citizens.auditor_lookup.BreachContacts`, purpose ``breach-notification``).
"""

from __future__ import annotations

import io
import json

from audit import cli as audit_cli
from audit.breach import BreachWindow
from audit.entry import Actor
from audit.records import auditor_query_entry
from identity.citizens.auditor_lookup import BreachContacts
from identity.service.services import Services
from identity.storage.auditor_lookup import citizen_ids_for

__all__ = ["breach_report", "breach_rows"]


def breach_report(
    state: Services, window: BreachWindow, *, actor: Actor, fmt: str, with_contact: bool
) -> str:
    """The report of ``window`` as ``fmt`` (``json`` or ``csv``) text (blocking)."""
    state.audit_recorder.record(
        auditor_query_entry(
            time=state.audit_log.clock(), actor=actor, resource="breach-report",
            filters=window.event_filter().names(),
        )
    )  # fmt: skip
    out = io.StringIO()
    audit_cli.breach_report(
        state.audit_log, window, fmt, out, io.StringIO(),
        citizen_ids=lambda wanted: citizen_ids_for(
            wanted, database=state.database, pseudonymizer=state.pseudonymizer
        ),
        contact=BreachContacts(citizens=state.citizens, actor=actor) if with_contact else None,
    )  # fmt: skip
    return out.getvalue()


def breach_rows(report: str) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The JSON report's header and its citizens' rows."""
    document = json.loads(report)
    rows = document.pop("citizens")
    return document, rows
