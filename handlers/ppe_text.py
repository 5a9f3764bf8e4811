"""PPE texts shared by the requester and coordinator routes: quantities, dates, states."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal

from bot.context import Context
from bot.forms import Invalid
from bot.i18n import Translate
from storage import ppe
from storage.base import utcnow
from storage.ppe import ITEMS, PPERequest


def number(lang: str, value: float) -> str:
    """A quantity as people read it in the language (12.000 / 12,000)."""
    return format_decimal(value, locale=lang)


def day(lang: str, value: date | None) -> str:
    """A date as people read it in the language."""
    return format_date(value, "medium", locale=lang) if value else "–"


def item_name(t: Translate, item: str) -> str:
    """An item's name in the language."""
    return t(f"ppe.item.{item}")


def pieces_text(t: Translate, lang: str, item: str, qty: int, packs: bool = False) -> str:
    """'200 FFP2-Masken', '1 Flasche Desinfektionsmittel (1 l)', with packs '200 Handschuhe
    (2 Kartons à 100)'."""
    pack = ITEMS[item].pack_size
    counted = t(f"ppe.counted.{item}", count=qty)  # "5 Flaschen Desinfektionsmittel", "1 Flasche …"
    name = item_name(t, item) if counted == f"ppe.counted.{item}" else counted
    text = f"{number(lang, qty)} {name}"
    if packs and qty % pack == 0 and qty >= pack:
        cartons = qty // pack
        text += " " + t("ppe.packs", packs=number(lang, cartons), size=number(lang, pack),
                        count=cartons)
    return text


def catalogue_text(t: Translate) -> str:
    """The catalogue: each item with its unit and pack size."""
    return "\n".join(
        t(
            "ppe.catalogue_line",
            name=item_name(t, key),
            unit=t(f"ppe.unit.{key}"),
            size=spec.pack_size,
        )
        for key, spec in ITEMS.items()
    )


def explain(ctx: Context, invalid: Invalid) -> Invalid:
    """An Invalid from ppe_input with its values in the user's language."""
    values = dict(invalid.values)
    if "item" in values:
        values["item"] = item_name(ctx.t, str(values["item"]))
    if "kinds" in values:  # "FFP2-Masken, OP-Masken"
        values["kinds"] = ", ".join(item_name(ctx.t, str(kind)) for kind in values["kinds"])
    if invalid.key == "ppe.bad.unknown_item":
        values["items"] = catalogue_text(ctx.t)
    return Invalid(invalid.key, **values)


def today(ctx: Context) -> date:
    """Today in the city."""
    return utcnow().astimezone(ctx.config.city.tz).date()


def status_line(t: Translate, lang: str, request: PPERequest) -> str:
    """One request: number, state, items (allocated/requested once decided), reason."""
    if request.status in (ppe.APPROVED, ppe.DELIVERED):
        items = ", ".join(
            f"{number(lang, line.allocated or 0)}/{pieces_text(t, lang, line.item, line.requested)}"
            for line in request.lines
        )
    else:
        items = ", ".join(pieces_text(t, lang, line.item, line.requested) for line in request.lines)
    state = t(f"ppe.state.{request.status}")
    if request.status in (ppe.APPROVED, ppe.DELIVERED) and not ppe.fully_allocated(request):
        state = t("ppe.state.partly", state=state)
    text = f"{request.number} · {state} · {items}"
    if request.reason and request.status == ppe.REJECTED:
        text += "\n   " + t("ppe.reason", reason=request.reason)
    return text


def stale_text(t: Translate, request: PPERequest) -> str:
    """A request that is no longer in the state the action needs."""
    return t("ppe.stale", number=request.number, state=t(f"ppe.state.{request.status}"))
