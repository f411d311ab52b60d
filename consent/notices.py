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

The document names the controller, as a string or as ``{"name": ..., "contact": ...}``;
pages and receipts show its name. Every member of the document is type-checked when it is
parsed (:meth:`NoticeContent.from_json`), and a refusal names the member by its path.
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
#: The members a notice document and its objects may hold; any other is refused (a member
#: Jati does not know would be published nowhere, silently).
_DOCUMENT_MEMBERS = ("controller", "items", "dpo")
_CONTROLLER_MEMBERS = ("name", "contact")
_TEXT_MEMBERS = ("id", "en")
_DPO_MEMBERS = ("name", "email", "phone", "url")
_CONTROLLER_SHAPE = 'a non-empty string or an object {"name": ..., "contact": ...}'


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
    """What a notice says: the seven Art. 21 items, the controller and the DPO contact.

    ``controller`` is the controller's name, as the consent screen, the notice page and
    every receipt show it; ``controller_contact`` how to reach the controller itself, when
    the notice gives it (the DPO of Art. 53 is another role, with its own contact).
    """

    controller: str
    items: Mapping[str, LocalizedText]
    dpo: DpoContact
    controller_contact: str | None = None

    def __post_init__(self) -> None:
        if not self.controller.strip() or len(self.controller) > MAX_TEXT:
            raise InvalidNotice("the notice must name the controller")
        contact = self.controller_contact
        if contact is not None and (not contact.strip() or len(contact) > MAX_TEXT):
            raise InvalidNotice(f"the controller's contact is 1 to {MAX_TEXT} characters")
        missing = [name for name in NOTICE_ITEMS if name not in self.items]
        if missing:
            raise InvalidNotice(f"the notice lacks UU PDP Art. 21 item(s): {', '.join(missing)}")
        unknown = sorted(set(self.items) - set(NOTICE_ITEMS))
        if unknown:
            raise InvalidNotice(f"unknown notice item(s): {', '.join(unknown)}")

    def to_json(self) -> dict[str, Any]:
        """The notice document. A controller without a contact stays a plain string, so the
        content hash of every notice published before the object form is unchanged."""
        controller: str | dict[str, str] = self.controller
        if self.controller_contact is not None:
            controller = {"name": self.controller, "contact": self.controller_contact}
        return {
            "controller": controller,
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
    def from_json(cls, document: object) -> NoticeContent:
        """Parse a notice document, a file an operator publishes or one stored by
        :meth:`to_json`::

            {"controller": "Dinas Sosial" | {"name": "Dinas Sosial", "contact": "..."},
             "items": {"legality": {"id": "...", "en": "..."}, ...},
             "dpo": {"name": "...", "email": "...", "phone": "...", "url": "..."}}

        Every member is type-checked, and a member Jati does not know is refused rather than
        dropped: what the operator wrote is either what citizens are shown, or an error.
        ``en``, ``email``, ``phone`` and ``url`` may be left out (or ``null``).

        Raises:
            InvalidNotice: one line naming the member by its path, e.g.
                ``items.legality.id must be a string``; a missing Art. 21 item (UU PDP
                Art. 21(1) a-g) or a DPO without a channel (Art. 53).
        """
        if not isinstance(document, Mapping):
            raise InvalidNotice('a notice is a JSON object {"controller", "items", "dpo"}')
        _known_members(document, "the notice", _DOCUMENT_MEMBERS)
        controller, contact = _controller(document)
        items = _object(document.get("items"), "items", "holding the UU PDP Art. 21(1) items")
        unknown = sorted(set(items) - set(NOTICE_ITEMS))
        if unknown:
            raise InvalidNotice(
                f"unknown notice item(s): {', '.join(_quoted(str(n)) for n in unknown)}; "
                f"UU PDP Art. 21(1) names {', '.join(NOTICE_ITEMS)}"
            )
        texts = {n: _localized(items[n], f"items.{n}") for n in NOTICE_ITEMS if n in items}
        dpo = _object(document.get("dpo"), "dpo", '{"name": ..., "email", "phone" or "url"}')
        _known_members(dpo, "dpo", _DPO_MEMBERS)
        channels = {k: _optional(dpo, k, f"dpo.{k}", None) for k in ("email", "phone", "url")}
        return cls(
            controller=controller,
            controller_contact=contact,
            items=texts,
            dpo=DpoContact(_required(dpo, "name", "dpo.name", None), **channels),
        )


def _quoted(name: str) -> str:
    """A member name from the document, quoted on one line and cut short."""
    return repr(name if len(name) <= 40 else name[:37] + "...")


def _object(value: object, path: str, shape: str) -> Mapping[str, Any]:
    if value is None:
        raise InvalidNotice(f"{path} is missing: an object {shape}")
    if not isinstance(value, Mapping):
        raise InvalidNotice(f"{path} must be an object {shape}")
    return value


def _known_members(value: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise InvalidNotice(
            f"{path} has unknown member(s) {', '.join(_quoted(str(n)) for n in unknown)}; "
            f"it holds {', '.join(allowed)}"
        )


def _required(value: Mapping[str, Any], member: str, path: str, limit: int | None) -> str:
    text = value.get(member)
    if text is None:
        raise InvalidNotice(f"{path} is missing: a non-empty string")
    if not isinstance(text, str):
        raise InvalidNotice(f"{path} must be a string")
    if not text.strip():
        raise InvalidNotice(f"{path} must not be empty")
    if limit is not None and len(text) > limit:
        raise InvalidNotice(f"{path} is at most {limit} characters")
    return text


def _optional(value: Mapping[str, Any], member: str, path: str, limit: int | None) -> str | None:
    """Absent, ``null`` and ``""`` are all None (:meth:`NoticeContent.to_json` leaves an
    empty text out)."""
    text = value.get(member)
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise InvalidNotice(f"{path} must be a string")
    if limit is not None and len(text) > limit:
        raise InvalidNotice(f"{path} is at most {limit} characters")
    return text


def _controller(document: Mapping[str, Any]) -> tuple[str, str | None]:
    """The controller's name and contact: a string names it; an object names it and says
    how to reach it."""
    value = document.get("controller")
    if value is None:
        raise InvalidNotice(f"controller is missing: {_CONTROLLER_SHAPE}")
    if isinstance(value, str):
        return _required(document, "controller", "controller", MAX_TEXT), None
    if not isinstance(value, Mapping):
        raise InvalidNotice(f"controller must be {_CONTROLLER_SHAPE}")
    _known_members(value, "controller", _CONTROLLER_MEMBERS)
    name = _required(value, "name", "controller.name", MAX_TEXT)
    return name, _required(value, "contact", "controller.contact", MAX_TEXT)


def _localized(value: object, path: str) -> LocalizedText:
    """A text in Bahasa Indonesia (``id``, required) and English (``en``, optional)."""
    text = _object(value, path, '{"id": ..., "en": ...}')
    _known_members(text, path, _TEXT_MEMBERS)
    return LocalizedText(
        _required(text, "id", f"{path}.id", MAX_TEXT),
        _optional(text, "en", f"{path}.en", MAX_TEXT),
    )


@dataclass(frozen=True, slots=True)
class Notice:
    """A published notice version of one app."""

    app_id: str
    version: int
    content: NoticeContent
    content_hash: str
    published_at: datetime
