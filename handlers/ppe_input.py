"""PPE input: items and quantities (packs to pieces) from a message, dates, command arguments."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.forms import Invalid
from nlu.timeparse import yearless_date
from storage.ppe import ITEMS, SOURCES

PACK_WORDS = re.compile(
    r"\b(kartons?|packungen|packung|packs?|päckchen|schachteln?|kisten?|boxen|box|boxes|"
    r"cartons?|cases?|pakete?|gebinde)\b",
    re.IGNORECASE,
)
NEGATIVE = re.compile(r"(?:^|[\s(])[-−]\s*\d")
REQUEST_NUMBER = re.compile(r"^(?:#|psa-\d{4}-|ppe-\d{4}-)?0*(\d{1,9})$", re.IGNORECASE)
URGENT_WORDS = re.compile(
    r"\b(dringend\w*|eilig\w*|sofort|schnellstmöglich|notfall|urgent\w*|asap|immediately|"
    r"emergency|right away)\b",
    re.IGNORECASE,
)
DATE_PATTERN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ITEM_ALIASES = {
    "ffp2": "ffp2_mask",
    "ffp2-masken": "ffp2_mask",
    "ffp2-maske": "ffp2_mask",
    "op-masken": "surgical_mask",
    "masken": "surgical_mask",
    "masks": "surgical_mask",
    "handschuhe": "gloves",
    "kittel": "gown",
    "schutzkittel": "gown",
    "gowns": "gown",
    "visiere": "face_shield",
    "visier": "face_shield",
    "shields": "face_shield",
    "brillen": "goggles",
    "schutzbrillen": "goggles",
    "desinfektionsmittel": "disinfectant",
}
SOURCE_ALIASES = {
    "kauf": "purchase",
    "einkauf": "purchase",
    "bought": "purchase",
    "spende": "donation",
    "donated": "donation",
    "lokal": "local_makers",
    "local": "local_makers",
    "makers": "local_makers",
    "maker": "local_makers",
    "3d": "local_makers",
    "3d-druck": "local_makers",
}


def candidates(parse: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every entity the NLU found in a message (also those it judged unrelated)."""
    if not parse:
        return []
    return sorted(parse.get("candidate_entities", parse["entities"]), key=lambda e: e["start"])


def items_in(text: str, entities: list[dict[str, Any]], max_packs: int) -> list[list[Any]]:
    """The [item, pieces] pairs of a message; Invalid when a quantity or item does not fit.

    A quantity belongs to the next item after it; "2 Kartons Handschuhe" counts packs. An item
    named before its quantity takes the quantity right after it ("FFP2-Masken 100 Stück",
    "Handschuhe, so zwei Kartons") unless that quantity is followed by an item of its own.
    No item at all, or a quantity without an item, is an item not in the catalogue.
    """
    if NEGATIVE.search(text):
        raise Invalid("ppe.bad.negative")
    found: dict[str, int] = {}
    kinds = [_kind(entity) for entity in entities]
    pending: dict[str, Any] | None = None  # a quantity waiting for its item
    waiting: str | None = None  # an item waiting for its quantity
    for i, entity in enumerate(entities):
        if kinds[i] == "quantity":
            if waiting is not None and "item" not in kinds[i + 1 : i + 2]:
                after = text[entity["end"] : _start(entities, i + 1, len(text))]
                _add(
                    found,
                    waiting,
                    int(entity["value"]),
                    bool(PACK_WORDS.match(after.strip() + " ")),
                    max_packs,
                )
                waiting = None
                continue
            if waiting is not None:
                raise Invalid("ppe.bad.no_quantity", item=waiting)
            if pending is not None:
                raise Invalid("ppe.bad.unknown_item")
            pending = entity
        elif kinds[i] == "item":
            item = entity["value"]
            if waiting is not None:
                raise Invalid("ppe.bad.no_quantity", item=waiting)
            if pending is None:
                waiting = item
                continue
            between = text[pending["end"] : entity["start"]]
            _add(found, item, int(pending["value"]), bool(PACK_WORDS.search(between)), max_packs)
            pending = None
    if waiting is not None:
        raise Invalid("ppe.bad.no_quantity", item=waiting)
    if pending is not None or not found:
        raise Invalid("ppe.bad.unknown_item")
    return [[item, pieces] for item, pieces in found.items()]


def _kind(entity: dict[str, Any]) -> str:
    if entity["entity"] == "quantity":
        return "quantity"
    if entity["entity"] == "ppe_item" and entity["value"] in ITEMS:
        return "item"
    return "other"


def _start(entities: list[dict[str, Any]], index: int, default: int) -> int:
    return entities[index]["start"] if index < len(entities) else default


def _add(found: dict[str, int], item: str, count: int, packs: bool, max_packs: int) -> None:
    """Count pieces (or packs) of an item in, refusing zero and absurd amounts."""
    if count <= 0:
        raise Invalid("ppe.bad.zero")
    if (count if packs else count / ITEMS[item].pack_size) > max_packs:
        raise Invalid("ppe.bad.absurd", item=item, max=max_packs)
    found[item] = found.get(item, 0) + count * (ITEMS[item].pack_size if packs else 1)


def is_urgent(text: str) -> bool:
    """Whether a message says the need is urgent."""
    return bool(URGENT_WORDS.search(text))


def date_in(text: str, entities: list[dict[str, Any]], today: date) -> date | None:
    """A date the text names: the NLU's time entity, 12.12.(2026) or 2026-12-12."""
    cleaned = text.strip().removeprefix("bis ").removeprefix("by ").strip()
    match = DATE_PATTERN.match(cleaned)
    if match:
        day, month, year = match.groups()
        if not year:
            return yearless_date(int(day), int(month), today)
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
        except ValueError:
            return None
    if ISO_DATE.match(cleaned):
        try:
            return date.fromisoformat(cleaned)
        except ValueError:
            return None
    for entity in entities:
        if entity["entity"] == "time":
            try:
                return date.fromisoformat(str(entity["value"])[:10])
            except ValueError:
                continue
    return None


def request_id(text: str) -> int | None:
    """The request id in '42', '#42' or 'PSA-2026-0042'."""
    match = REQUEST_NUMBER.match(text.strip())
    return int(match.group(1)) if match else None


def item_key(word: str) -> str | None:
    """An item key from its key or a common name ('ffp2_mask', 'handschuhe', 'gloves')."""
    word = word.lower().strip(",;:")
    if word in ITEMS:
        return word
    return ITEM_ALIASES.get(word)


def source_key(word: str) -> str | None:
    """A supply source from its key or a common word ('spende', 'donation', 'lokal')."""
    word = word.lower().strip(",;:")
    return word if word in SOURCES else SOURCE_ALIASES.get(word)


def signed_int(word: str) -> int | None:
    """An integer with optional sign and thousands separators ('1.000', '-20', '+5')."""
    cleaned = word.replace("−", "-").replace(".", "").replace("'", "").replace("_", "")
    return int(cleaned) if re.fullmatch(r"[+-]?\d{1,9}", cleaned) else None


def allocation_pairs(words: list[str]) -> dict[str, int]:
    """'ITEM QTY ITEM QTY' -> {item: pieces}; Invalid for an unknown item or a bad number."""
    if len(words) % 2:
        raise Invalid("ppe.usage.approve")
    found: dict[str, int] = {}
    for word, number in zip(words[::2], words[1::2], strict=True):
        item = item_key(word)
        if item is None:
            raise Invalid("ppe.bad.unknown_item")
        qty = signed_int(number)
        if qty is None:
            raise Invalid("ppe.usage.approve")
        if qty < 0:
            raise Invalid("ppe.bad.negative")
        found[item] = found.get(item, 0) + qty
    return found
