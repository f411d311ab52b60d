"""Privacy notices (UU PDP Art. 21, 53): versioned, immutable, hashed.

Before asking for consent the controller must tell the citizen seven things (Art. 21(1)):
the legality of the processing, its purpose, the type and relevance of the data, the
retention period of documents holding it, the details of the information collected, the
processing period, and the citizen's rights. Public-service processing needs a data
protection officer (Art. 53), whose contact every notice carries.

A notice is published per relying app with increasing versions and never changes; its
``content_hash`` (SHA-256 over canonical JSON, RFC 8785-style: sorted keys, no whitespace)
is recorded in every consent event and receipt, so it is provable which text the citizen
saw. A new version means the app's existing consents no longer cover it: the citizen is
asked again (Art. 21(2): notify before anything changes).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent.errors import InvalidNotice
from consent.purposes import MAX_TEXT, LocalizedText

#: Art. 21(1) a-g, in the law's order.
NOTICE_ITEMS = (
    "legality",
    "purposes",
    "data_types",
    "retention",
    "details_collected",
    "processing_period",
    "rights",
)
HASH_PREFIX = "sha-256:"


@dataclass(frozen=True, slots=True)
class DpoContact:
    """The data protection officer (Art. 53): a name or office and at least one channel."""

    name: str
    email: str | None = None
    phone: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidNotice("the DPO contact needs a name or office (UU PDP Art. 53)")
        if not (self.email or self.phone or self.url):
            raise InvalidNotice("the DPO contact needs an email, a phone or a URL (Art. 53)")

    def to_json(self) -> dict[str, str]:
        fields = {"name": self.name, "email": self.email, "phone": self.phone, "url": self.url}
        return {k: v for k, v in fields.items() if v}


@dataclass(frozen=True, slots=True)
class NoticeContent:
    """What a notice says: the seven Art. 21 items, the controller and the DPO contact."""

    controller: str
    items: Mapping[str, LocalizedText]
    dpo: DpoContact

    def __post_init__(self) -> None:
        if not self.controller.strip() or len(self.controller) > MAX_TEXT:
            raise InvalidNotice("the notice must name the controller")
        missing = [name for name in NOTICE_ITEMS if name not in self.items]
        if missing:
            raise InvalidNotice(f"the notice lacks UU PDP Art. 21 item(s): {', '.join(missing)}")
        unknown = sorted(set(self.items) - set(NOTICE_ITEMS))
        if unknown:
            raise InvalidNotice(f"unknown notice item(s): {', '.join(unknown)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "items": {name: self.items[name].to_json() for name in NOTICE_ITEMS},
            "dpo": self.dpo.to_json(),
        }

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=")
        return HASH_PREFIX + digest.decode()

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> NoticeContent:
        """Parse a notice file: ``{"controller": ..., "items": {"legality": {"id": ...,
        "en": ...}, ...}, "dpo": {"name": ..., "email": ...}}``."""
        if not isinstance(document, Mapping):
            raise InvalidNotice("a notice is a JSON object")
        items = document.get("items")
        dpo = document.get("dpo")
        if not isinstance(items, Mapping) or not isinstance(dpo, Mapping):
            raise InvalidNotice("a notice has `items` (the Art. 21 items) and `dpo` objects")
        texts: dict[str, LocalizedText] = {}
        for name, value in items.items():
            if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
                raise InvalidNotice(f"notice item {name!r} needs its Bahasa Indonesia text `id`")
            english = value.get("en")
            texts[str(name)] = LocalizedText(
                value["id"], english if isinstance(english, str) else None
            )
        contact = {k: dpo.get(k) for k in ("name", "email", "phone", "url")}
        if not all(v is None or isinstance(v, str) for v in contact.values()):
            raise InvalidNotice("DPO contact fields are strings")
        return cls(
            controller=str(document.get("controller") or ""),
            items=texts,
            dpo=DpoContact(**{k: v for k, v in contact.items() if v is not None}),
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """A published notice version of one app."""

    app_id: str
    version: int
    content: NoticeContent
    content_hash: str
    published_at: datetime
