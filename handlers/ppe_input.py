"""PPE input: items and quantities (packs to pieces) from a message, dates, command arguments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.forms import Invalid
from nlu.timeparse import yearless_date
from storage.ppe import ITEMS, MASKS, SOURCES

PACK_NAMES = (
    r"kartons?|packungen|packung|packs?|päckchen|schachteln?|kisten?|boxen|box|boxes|"
    r"cartons?|cases?|pakete?|gebinde"
)
PACK_WORDS = re.compile(rf"\b({PACK_NAMES})\b", re.IGNORECASE)
# "eine Flasche Desinfektionsmittel", "ne Kiste Handschuhe", "a box of gloves" right before an
# item: one (pack); not "ein paar" / "a couple of", which count nothing (the form asks)
ONE_WORD = re.compile(
    rf"(?:^|[\s,;(])(?P<one>eine?[nmr]?|'?ne[nm]?|a)\s+"
    rf"(?:(?:flaschen?|bottles?|stück|piece|liter|litre|{PACK_NAMES})\s+(?:of\s+)?)?$",
    re.IGNORECASE,
)
NEGATIVE = re.compile(r"(?:^|[\s(])[-−]\s*\d")
REQUEST_NUMBER = re.compile(r"^(?:#|psa-\d{4}-|ppe-\d{4}-)?0*(\d{1,9})$", re.IGNORECASE)
# needed now: at the needed-by step today, and urgent (not "bis spätestens freitag")
ASAP_WORDS = re.compile(
    r"\b(so\s+(?:schnell|bald|früh)\s+wie\s+möglich|schnellstmöglich|schnellstens|"
    r"baldmöglichst|sofort|umgehend|asap|a\.s\.a\.p|as\s+soon\s+as\s+possible|immediately|"
    r"right\s+away|jetzt\s+gleich)\b",
    re.IGNORECASE,
)
URGENT_WORDS = re.compile(
    rf"\b(dringend\w*|eilig\w*|notfall|urgent\w*|emergency)\b|{ASAP_WORDS.pattern}",
    re.IGNORECASE,
)
# "1.500" / "1,000" (groups of exactly three digits, one separator throughout) or a run of
# more digits than the NLU reads as a quantity; not "1,5", "2.5", "12.12." or "1.500,50"
WRITTEN_NUMBER = re.compile(
    r"(?<![\w.,])(?:\d{1,3}(?P<sep>[.,])\d{3}(?:(?P=sep)\d{3})*|\d{7,})(?![\w]|[.,]\d)"
)
# masks without their kind: "masken", "masks" (not "FFP2-Masken", "OP-Masken", "surgical masks")
MASK_WORDS = frozenset({"maske", "masken", "mask", "masks", "schutzmaske", "schutzmasken"})
WHICH_MASK = "ppe.bad.which_mask"
NO_QUANTITY = "ppe.bad.no_quantity"
# a whole number in groups of three: "1.000", "1,500", "1'000", "-2.000"
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?P<sep>[.,'_])\d{3}(?:(?P=sep)\d{3})*")
DATE_PATTERN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ITEM_ALIASES = {
    "ffp2": "ffp2_mask",
    "ffp2-masken": "ffp2_mask",
    "ffp2-maske": "ffp2_mask",
    "op-masken": "surgical_mask",
    "op": "surgical_mask",
    "surgical": "surgical_mask",
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
    "gespendet": "donation",
    "spenden": "donation",
    "gekauft": "purchase",
    "eingekauft": "purchase",
    "purchased": "purchase",
}
# a coordinator's words, read by the NLU as a requester's (request_ppe, ppe_status)
APPROVE, QUEUE, SUPPLY = "approve", "queue", "supply"
APPROVE_WORDS = re.compile(r"\b(approv\w*|genehmig\w*|bewillig\w*|freigeben)\b", re.IGNORECASE)
QUEUE_WORDS = re.compile(
    r"\b(queue|warteschlange|(?:offenen?|open|pending|ausstehenden?)\s+(?:\w+\s+){0,2}?"
    r"(?:anforderungen|anfragen|bestellungen|requests|orders))\b",
    re.IGNORECASE,
)
SUPPLY_WORDS = re.compile(
    r"\b(received|erhalten|gespendet|spende\w*|donat\w*|eingegangen)\b", re.IGNORECASE
)
# also a supply for a coordinator who requests for no department (not "bis freitag geliefert"
# of a department's request)
LOOSE_SUPPLY_WORDS = re.compile(
    r"\b(geliefert|bekommen|eingetroffen|angekommen|arrived|got)\b", re.IGNORECASE
)
# a size, which the catalogue does not keep: "Größe M", "Gr. XL", "size 8", "sizes S and M"
# (a number after "und" is a size only when no word follows it: "Größe L und 20 Kittel" is 20
# gowns)
LETTER_SIZE = r"(?:xxs|xs|s|m|l|xl|xxl|xxxl)"
SIZE_WORDS = re.compile(
    rf"\b(?:größen?|groessen?|gr\.|sizes?)\s*:?\s*(?:{LETTER_SIZE}|\d{{1,2}})"
    rf"(?:\s*(?:,|und|and|or|oder|/)\s*(?:{LETTER_SIZE}|\d{{1,2}}(?!\s*[^\W\d_])))*(?![\w-])",
    re.IGNORECASE,
)
# a letter size right after gloves or gowns: "50 handschuhe L", "gloves in XL", "Kittel M und L"
ITEM_SIZE = re.compile(
    rf"(?:handschuhe?|gloves?|kittel|gowns?),?\s+(?:in\s+)?(?P<size>{LETTER_SIZE}"
    rf"(?:\s*(?:,|und|and|or|oder|/)\s*{LETTER_SIZE})*)(?![\w-])",
    re.IGNORECASE,
)
PSA_NUMBER = re.compile(r"\b(?:psa|ppe)-\d{4}-0*(\d{1,9})\b", re.IGNORECASE)
BARE_NUMBER = re.compile(r"(?<![\w.,-])#?0*(\d{1,9})(?![\w.,])")


def coordinator_wish(text: str, clear_only: bool = False) -> str | None:
    """What a coordinator's words ask for: APPROVE ("anforderung 12 genehmigen"), SUPPLY ("we
    received 500 ffp2 masks"), QUEUE ("zeig die offenen anforderungen"), or None. clear_only:
    only words no requester would use ("geliefert" is no supply then)."""
    if APPROVE_WORDS.search(text):
        return APPROVE
    if SUPPLY_WORDS.search(text) or (not clear_only and LOOSE_SUPPLY_WORDS.search(text)):
        return SUPPLY
    if QUEUE_WORDS.search(text):
        return QUEUE
    return None


def sizes_in(text: str) -> list[str]:
    """The sizes a message names ("Größe M", "size 8"), as said."""
    return [text[start:end].strip() for start, end in _size_spans(text)]


def _size_spans(text: str) -> list[tuple[int, int]]:
    """Where sizes are said: "Größe M", "size 8", a letter after gloves or gowns ("gloves L")."""
    spans = [match.span() for match in SIZE_WORDS.finditer(text)]
    spans += [match.span("size") for match in ITEM_SIZE.finditer(text)
              if not any(a < match.end() and match.start("size") < b for a, b in spans)]
    return sorted(spans)


def without_sizes(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entities without the numbers of sizes ("Handschuhe Größe 8" is no 8 gloves)."""
    spans = _size_spans(text)
    return [e for e in entities if not any(a <= e["start"] < b for a, b in spans)]


def number_in(text: str) -> int | None:
    """The request number a sentence names: 'PSA-2026-0012', or its only number ('request
    12', '#12'); None when none or several."""
    match = PSA_NUMBER.search(text)
    if match:
        return int(match.group(1))
    found = BARE_NUMBER.findall(text)
    return int(found[0]) if len(found) == 1 else None


def source_in(text: str) -> str | None:
    """The supply source a sentence names ('as a donation', 'gespendet', 'gekauft'), or None."""
    words = (word.strip(".,;:!?()\"'") for word in text.split())
    return next((key for word in words if (key := source_key(word))), None)


def candidates(parse: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every entity the NLU found in a message (also those it judged unrelated)."""
    if not parse:
        return []
    return sorted(parse.get("candidate_entities", parse["entities"]), key=lambda e: e["start"])


def items_in(
    text: str, entities: list[dict[str, Any]], max_packs: int, masks: Sequence[str] = MASKS
) -> list[list[Any]]:
    """The [item, pieces] pairs of a message; Invalid when a quantity or item does not fit.

    A quantity belongs to the next item after it; "2 Kartons Handschuhe" counts packs. An item
    named before its quantity takes the quantity right after it ("FFP2-Masken 100 Stück",
    "Handschuhe, so zwei Kartons") unless that quantity is followed by an item of its own.
    "eine Flasche", "ne Kiste", "a box of" count one. No item at all, or a quantity without an
    item, is an item not in the catalogue; items without a quantity are NO_QUANTITY, which
    carries the pairs found (found) and those items (missing). "1.500" and "1,000" are
    thousands. Plain "Masken" is the one kind of masks, else WHICH_MASK.
    """
    if NEGATIVE.search(text):
        raise Invalid("ppe.bad.negative")
    entities = without_sizes(text, with_written_numbers(text, entities))
    if not any(bare_mask(text, entity) for entity in entities):
        return _read_items(text, entities, max_packs)
    if len(masks) == 1:
        return _read_items(text, _masks_as(text, entities, masks[0]), max_packs)
    if not masks:
        raise Invalid("ppe.bad.not_in_request", item="mask")
    raise _unsure_masks(text, entities, max_packs, masks)


def _unsure_masks(
    text: str, entities: list[dict[str, Any]], max_packs: int, masks: Sequence[str]
) -> Invalid:
    """WHICH_MASK, unless the quantity is wrong for every kind of mask (0, too many)."""
    problems = []
    for kind in masks:
        try:
            _read_items(text, _masks_as(text, entities, kind), max_packs)
        except Invalid as invalid:
            problems.append(invalid)
    keys = {problem.key for problem in problems}
    if len(problems) == len(masks) and keys in ({"ppe.bad.zero"}, {"ppe.bad.absurd"}):
        values = dict(problems[0].values)
        if values.get("item") in masks:
            values["item"] = "mask"
        return Invalid(problems[0].key, **values)
    return Invalid(WHICH_MASK, kinds=list(masks))


def bare_mask(text: str, entity: dict[str, Any]) -> bool:
    """Whether an entity is a mask named without its kind ("masken", "masks")."""
    said = text[entity["start"] : entity["end"]].lower()
    return entity["entity"] == "ppe_item" and said in MASK_WORDS


def _masks_as(text: str, entities: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [dict(e, value=kind) if bare_mask(text, e) else e for e in entities]


def with_written_numbers(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entities with the quantities the NLU leaves out: "1.500", "1,000", "99999999"."""
    found = list(entities)
    for match in WRITTEN_NUMBER.finditer(text):
        start, end = match.span()
        overlapping = [e for e in found if e["start"] < end and start < e["end"]]
        if any(e["entity"] != "quantity" for e in overlapping):
            continue  # money, a date, …: not a count of things
        found = [e for e in found if e not in overlapping]
        value = int(re.sub(r"[.,]", "", match.group()))
        found.append({"entity": "quantity", "value": value, "start": start, "end": end})
    return sorted(found, key=lambda e: e["start"])


def with_item(text: str, entities: list[dict[str, Any]], item: str) -> list[dict[str, Any]]:
    """The answer to "how many ITEM?": a quantity without an item counts that item."""
    entities = with_written_numbers(text, entities)
    kinds = {_kind(entity) for entity in entities}
    if "item" in kinds or "quantity" not in kinds:
        return entities
    end = len(text)
    return [*entities, {"entity": "ppe_item", "value": item, "start": end, "end": end}]


def mask_kind(text: str, entities: list[dict[str, Any]]) -> str | None:
    """The kind of masks an answer names alone ("FFP2", "OP-Masken", "surgical"), or None."""
    key = item_key(text)
    if key in MASKS:
        return key
    named = [e for e in entities if _kind(e) in ("item", "quantity")]
    if len(named) == 1 and named[0]["value"] in MASKS and not bare_mask(text, named[0]):
        return str(named[0]["value"])
    return None


def _read_items(text: str, entities: list[dict[str, Any]], max_packs: int) -> list[list[Any]]:
    """The pairs of a message; Invalid NO_QUANTITY (with what was found) for an item without a
    quantity."""
    found, missing = _pairs(text, with_one_words(text, entities), max_packs)
    if missing:
        pairs = [[item, pieces] for item, pieces in found.items()]
        raise Invalid(NO_QUANTITY, item=missing[0], missing=missing, found=pairs)
    if not found:
        raise Invalid("ppe.bad.unknown_item")
    return [[item, pieces] for item, pieces in found.items()]


def _pairs(
    text: str, entities: list[dict[str, Any]], max_packs: int
) -> tuple[dict[str, int], list[str]]:
    """Pieces per item, and the items named without a quantity (in the order said)."""
    found: dict[str, int] = {}
    missing: list[str] = []
    kinds = [_kind(entity) for entity in entities]
    pending: dict[str, Any] | None = None  # a quantity waiting for its item
    waiting: str | None = None  # an item waiting for its quantity
    for i, entity in enumerate(entities):
        if kinds[i] == "quantity":
            if waiting is not None and "item" not in kinds[i + 1 : i + 2]:
                after = text[entity["end"] : _start(entities, i + 1, len(text))]
                packs = bool(PACK_WORDS.match(after.strip() + " "))
                _add(found, waiting, int(entity["value"]), packs, max_packs)
                waiting = None
                continue
            if pending is not None:
                raise Invalid("ppe.bad.unknown_item")
            if waiting is not None:  # the quantity is the next item's
                missing.append(waiting)
                waiting = None
            pending = entity
        elif kinds[i] == "item":
            item = entity["value"]
            if waiting is not None:
                missing.append(waiting)
            if pending is None:
                waiting = item
                continue
            between = text[pending["end"] : entity["start"]]
            _add(found, item, int(pending["value"]), bool(PACK_WORDS.search(between)), max_packs)
            pending, waiting = None, None
    if waiting is not None:
        missing.append(waiting)
    if pending is not None:
        raise Invalid("ppe.bad.unknown_item")
    return found, [item for item in dict.fromkeys(missing) if item not in found]


def with_one_words(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entities with a quantity of 1 for "eine Flasche", "ne Kiste", "a box of" said right
    before an item that has no quantity before it."""
    found = list(entities)
    for i, entity in enumerate(entities):
        if _kind(entity) != "item" or (i and _kind(entities[i - 1]) == "quantity"):
            continue
        gap_start = entities[i - 1]["end"] if i else 0
        match = ONE_WORD.search(text[gap_start : entity["start"]])
        if match:
            start, end = (gap_start + at for at in match.span("one"))
            found.append({"entity": "quantity", "value": 1, "start": start, "end": end})
    return sorted(found, key=lambda e: e["start"])


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


def wanted_at_once(text: str) -> bool:
    """Whether a needed-by answer says "as soon as possible" ("so schnell wie möglich",
    "asap", "sofort"): today, and urgent."""
    return bool(ASAP_WORDS.search(text))


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
    """An integer with optional sign and thousands separators ('1.000', '1,500', '-20', '+5');
    None for a decimal ('1,5') or no number."""
    cleaned = word.replace("−", "-")
    if THOUSANDS.fullmatch(cleaned):
        cleaned = re.sub(r"[.,'_]", "", cleaned)
    return int(cleaned) if re.fullmatch(r"[+-]?\d{1,9}", cleaned) else None


def source_at(words: list[str]) -> int | None:
    """Where the supply source is in '/ppesupply' words (not first: the item or quantity is)."""
    return next((i for i, word in enumerate(words) if i and source_key(word)), None)


def allocation_pairs(words: list[str], masks: Sequence[str] = MASKS) -> dict[str, int]:
    """'ITEM QTY ITEM QTY' (or 'QTY ITEM …') -> {item: pieces}; Invalid for an unknown item or
    a bad number. Plain "masken" is the one kind of masks in masks, else WHICH_MASK."""
    if len(words) % 2:
        raise Invalid("ppe.usage.approve")
    found: dict[str, int] = {}
    for first, second in zip(words[::2], words[1::2], strict=True):
        word, number = (second, first) if _is_number_first(first, second) else (first, second)
        item = _allocated_item(word, masks)
        qty = signed_int(number)
        if qty is None:
            raise Invalid("ppe.usage.approve")
        if qty < 0:
            raise Invalid("ppe.bad.negative")
        found[item] = found.get(item, 0) + qty
    return found


def _is_number_first(first: str, second: str) -> bool:
    """'1000 ffp2': the quantity before its item."""
    named = second.lower().strip(",;:") in MASK_WORDS or item_key(second) is not None
    return signed_int(first) is not None and named


def stock_item(word: str) -> str:
    """The item of a stock command (/ppesupply, /ppecorrect) – Invalid for an unknown word, and
    for a bare "masken", which names no kind (stock is booked per kind)."""
    return _allocated_item(word, MASKS)


def _allocated_item(word: str, masks: Sequence[str]) -> str:
    """The item a word of an allocation names; plain "masken" needs one kind of masks."""
    if word.lower().strip(",;:") in MASK_WORDS:
        if len(masks) == 1:
            return masks[0]
        if not masks:
            raise Invalid("ppe.bad.not_in_request", item="mask")
        raise Invalid(WHICH_MASK, kinds=list(masks))
    item = item_key(word)
    if item is None:
        raise Invalid("ppe.bad.unknown_item")
    return item
