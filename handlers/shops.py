"""Shops for citizens: find shops, the shop card, directions, following.

```mermaid
stateDiagram-v2
    [*] --> list: shop_info (name, category, district; deliver / pickup words)
    [*] --> card: shop_info (one match), deep link shop-KEY, Details
    list --> list: More (ten per page)
    list --> card: n Details
    card --> card: a question without a name ('liefern die auch?', shop_in_view)
    card --> following: Follow (/follow NAME, subscribe_shop)
    following --> card: Unfollow (/unfollow NAME, unsubscribe_shop, button under every update)
    card --> directions: Directions (map link; Telegram sendVenue)
    card --> vouchers: Buy a voucher / Support (handlers/vouchers.py)
```

Shop owners edit their card and send updates in handlers/shop_owners.py.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote_plus

from babel.dates import format_date

from bot import listing
from bot.context import Context
from bot.follow_up import asks_where_it_is
from bot.forms import begins_with_yes
from bot.i18n import format_time
from bot.listing import Item
from bot.messages import Button, Reply, Venue
from bot.public_holidays import holiday_name
from bot.registry import (
    button,
    command,
    deep_link,
    intent,
    menu_entry,
    org_name,
    payload,
    registry,
)
from nlu.normalize import tokenize
from nlu.timeparse import find_times
from storage import shop_updates, shops
from storage.base import utcnow
from storage.shops import WEEKDAYS, Shop

LIST_LIMIT = 10
# what a shop list's button says it does; a list to pick a shop for something else: "Wählen"
ACTION_LABELS = {"shop.card": "button.details", "shop.follow": "shops.button.follow",
                 "shop.unfollow": "shops.button.unfollow"}
DELIVER_WORDS = re.compile(r"liefer|deliver|bring|zustell", re.IGNORECASE)
PICKUP_WORDS = re.compile(r"abhol|pick.?up|collect|mitnehm|take.?away|to go", re.IGNORECASE)
OPEN_NOW_WORDS = re.compile(
    r"\b(jetzt|gerade|noch|now|right now|currently|still)\b.{0,20}\b(offen|auf|geöffnet|open)\b"
    r"|\b(offen|geöffnet|open)\b.{0,12}\b(jetzt|gerade|now)\b",
    re.IGNORECASE,
)
# "sonntags", "on sundays": the weekday the time parser reads ("sonntag", "sunday")
WEEKDAY_ADVERB = re.compile(
    r"\b((?:mon|diens|donners|frei|sams|sonn)tag|mittwoch|sonnabend"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day)s\b",
    re.IGNORECASE,
)
# the shop card just shown, meant without its name: "hat sie sonntags offen", "and on sunday?"
REFERRING_WORDS = re.compile(
    r"^\W*(?:und|and)\b"
    r"|\b(?:sie|die|das|dort|dorthin|da|it|they|them|that one|this one)\b"
    r"|\b(?:der|den|dem|dieser|diesen|diesem|dies|das|the|that|this)\s+"
    r"(?:laden|geschäft|geschaeft|shop|store|place)\b"
    r"|(?<!is )(?<!are )\bthere\b",
    re.IGNORECASE,
)
# a question about shops in general ("haben die läden sonntags offen"), not the one in view
MANY_SHOPS = re.compile(
    r"\b(?:läden|laeden|geschäfte|geschaefte|shops|stores|alle|welche|which|any)\b", re.IGNORECASE
)
# a follow wish pointing at the shop in view by a dative pronoun ("dem will ich folgen")
FOLLOW_REFERRING_WORDS = re.compile(r"\b(?:dem|denen|ihm|ihr|ihnen)\b", re.IGNORECASE)
UNFOLLOW_WORDS = re.compile(
    r"entfolg|abbestell|abmeld|abonn|\babo\b|kündig|kuendig|nicht mehr|keine\b.{0,40}\bmehr"
    r"|stumm|aufhören|aufhoeren|\bstopp?\b|unfollow|unsubscrib|cancel|no more|mute"
    r"|(?:do not|don't|dont) follow|stop following|leave",
    re.IGNORECASE,
)
# a category the NLU left out (plurals like "bike shops"): the first of these words in the text
CATEGORY_WORDS = {
    "bakery": r"bäcker|baecker|backstube|baker",
    "cafe": r"caf[eé]|kaffee|coffee",
    "restaurant": r"restaurant|trattoria|pizzeri|imbiss|grill",
    "bookshop": r"buchhandlung|buchläd|buchlad|book",
    "florist": r"blume|florist|flower",
    "fashion": r"mode|boutique|fashion|kleidung|cloth",
    "bike": r"fahrrad|radladen|bike|bicycle",
    "grocery": r"lebensmittel|hofladen|feinkost|grocer|supermarkt",
    "pharmacy": r"apothek|pharmac|chemist",
}
# a shop owner's own words about their shop (the NLU reads them as a citizen's question):
# which part of the card they mean ("meine öffnungszeiten ändern" -> /myshop hours)
OWNER_PARTS = {
    "hours": r"(?:ö|oe|o)ffnungszeit|opening (?:hours|times)|\bhours\b",
    "desc": r"beschreibung|description",
    "notice": r"\bhinweis|\bnotice\b|aushang",
    "offer": r"gutscheinbetr(?:ä|ae)ge|voucher (?:amounts|offer)",
}
POSSESSIVE = r"\b(?:mein|meine[nmrs]?|unser|unsere[nmrs]?|my|our)\b"
MINE = re.compile(POSSESSIVE, re.IGNORECASE)
EDIT_WORDS = re.compile(  # "ändern sich" is news for the followers, no wish to edit
    r"\b(?:(?:ä|ae)ndern|bearbeiten|anpassen|korrigieren|aktualisieren|eintragen|edit|change|"
    r"correct|fix|adjust|modify)\b(?!\s+sich)",
    re.IGNORECASE,
)
MY_SHOP = re.compile(  # "mein laden", "my shop", "edit my shop card", "unser geschäft"
    rf"{POSSESSIVE}\s+(?:\w+\s+)?"
    r"(?:laden|geschäft|geschaeft|shop|store|karte|card|eintrag|profil|profile)\b",
    re.IGNORECASE,
)
MY_OWN = re.compile(  # the speaker's own: "meine umsätze", "habe ich verkauft", "did we sell"
    rf"{POSSESSIVE}|\b(?:ich|wir|i|we|us)\b", re.IGNORECASE
)
SALES_WORDS = re.compile(
    r"ums(?:ä|ae|a)tz|verk(?:ä|ae)ufe|verkauft|\bverkauf\b|einnahmen|abrechnung|eingel(?:ö|oe)st"
    r"|\bsales\b|\bsold\b|\bsell\b|revenue|takings|earnings|redeemed",
    re.IGNORECASE,
)


def now_in_city(ctx: Context) -> datetime:
    """The current time in the city (tests replace it)."""
    return utcnow().astimezone(ctx.config.city.tz)


def short_time(ctx: Context, moment: datetime) -> str:
    """A UTC time as date and time in the city, the way every service shows one
    ('03.12.2026, 18:28' / 'Dec 3, 2026, 6:28 PM'; bot.i18n.format_time)."""
    return format_time(moment, ctx.lang, ctx.config.city.tz)


# --- texts ---------------------------------------------------------------------------------


def euros(cents: int, lang: str) -> str:
    """Cents as '12,50 €' (de) or '€12.50' (en)."""
    whole, rest = divmod(cents, 100)
    if lang == "de":
        return f"{whole},{rest:02d} €" if rest else f"{whole} €"
    return f"€{whole}.{rest:02d}" if rest else f"€{whole}"


def hours_on(ctx: Context, shop: Shop, day: date) -> tuple[str | None, str | None]:
    """A day's stored opening hours and the public holiday on it, if any: on a public holiday
    of the city's state the shop keeps its Sunday hours."""
    holiday = holiday_name(day, ctx.config.city.state, ctx.lang)
    weekday = "su" if holiday else WEEKDAYS[day.weekday()]
    return (shop.opening_hours or {}).get(weekday), holiday


def today_status(ctx: Context, shop: Shop) -> tuple[str, bool]:
    """Today's opening hours in words and whether the shop is open right now."""
    now = now_in_city(ctx)
    hours, holiday = hours_on(ctx, shop, now.date())
    if not hours:
        if holiday:
            return ctx.t("shops.today_closed_holiday", holiday=holiday), False
        return ctx.t("shops.today_closed"), False
    spans = [span.split("-") for span in hours.split(",")]  # "08:00-12:00,14:00-18:00"
    clock = now.strftime("%H:%M")
    is_open = any(start <= clock < end for start, end in spans)
    key = "shops.today_open_now" if is_open else "shops.today_closed_now"
    return ctx.t(key, hours=_hours_shown(ctx, hours, holiday)), is_open


def shown_hours(hours: str) -> str:
    """Stored opening hours as read: '08:00-12:00,14:00-18:00' -> '08:00–12:00, 14:00–18:00'."""
    return ", ".join(span.replace("-", "–") for span in hours.split(","))


def service_line(ctx: Context, shop: Shop) -> str:
    """'Lieferung: ja · Abholung: nein'."""
    yes, no = ctx.t("shops.yes"), ctx.t("shops.no")
    return ctx.t(
        "shops.services", delivers=yes if shop.delivers else no, pickup=yes if shop.pickup else no
    )


def list_line(ctx: Context, shop: Shop, day: date | None = None) -> str:
    """One line of a shop list: name, category, district, open now (or the asked day's hours:
    'So 07:30–11:00'), delivers."""
    parts = [ctx.t(f"shops.category.{shop.category}"), shop.district or ""]
    if day is None:
        _today, is_open = today_status(ctx, shop)
        parts.append(ctx.t("shops.open_now" if is_open else "shops.closed_now"))
    else:
        parts.append(short_day_hours(ctx, shop, day))
    if shop.delivers:
        parts.append(ctx.t("shops.delivers"))
    return f"{shop.name} – " + " · ".join(p for p in parts if p)


def map_link(shop: Shop) -> str:
    """The shop's address as an OpenStreetMap search link."""
    return "https://www.openstreetmap.org/search?query=" + quote_plus(shop.address)


def named_day(ctx: Context) -> date | None:
    """The day the message names: the NLU's time entity ("am sonntag", "morgen", "am 24.12."),
    else a weekday said as a habit ("sonntags", "on sundays"), read by the same time parser
    against the city's clock (now_in_city)."""
    value = ctx.entity("time", any_intent=True)
    if value:
        return date.fromisoformat(str(value)[:10])
    text, count = WEEKDAY_ADVERB.subn(r"\1", ctx.incoming.text)
    if not count:
        return None
    now = now_in_city(ctx)
    found = find_times(text, tokenize(text), ctx.config.city.tz.key, now.astimezone)
    return date.fromisoformat(found[0]["value"][:10]) if found else None


def asked_day(ctx: Context) -> date | None:
    """The day the message asks about ("hat müller sonntag auf"), if another than today."""
    day = named_day(ctx)
    return day if day != now_in_city(ctx).date() else None


def short_day_hours(ctx: Context, shop: Shop, day: date) -> str:
    """A day's hours for a list line: 'So 07:30–11:00' (holiday hours marked as such)."""
    name = format_date(day, ctx.t("shops.short_day_pattern"), locale=ctx.lang)
    hours, holiday = hours_on(ctx, shop, day)
    shown = _hours_shown(ctx, hours, holiday) if hours else ctx.t("shops.closed")
    return f"{name} {shown}"


def day_hours(ctx: Context, shop: Shop, day: date) -> str:
    """A day's opening hours in words: 'Sonntag, 13. Dezember: 07:30–11:00'."""
    name = format_date(day, ctx.t("shops.day_pattern"), locale=ctx.lang)
    hours, holiday = hours_on(ctx, shop, day)
    if not hours:
        if holiday:
            return ctx.t("shops.day_closed", day=f"{name} ({holiday})")
        return ctx.t("shops.day_closed", day=name)
    return ctx.t("shops.day_hours", day=name, hours=_hours_shown(ctx, hours, holiday))


def _hours_shown(ctx: Context, hours: str, holiday: str | None) -> str:
    """A day's hours as read, with the holiday they stand for ('(Erster Weihnachtstag:
    Sonntagszeiten)')."""
    shown = shown_hours(hours)
    return f"{shown} {ctx.t('shops.holiday_hours', holiday=holiday)}" if holiday else shown


async def card(ctx: Context, shop: Shop, day: date | None = None) -> list[Reply]:
    """The shop card: what it is, where, today's hours (and the asked day's), services,
    notice, latest update; the shop is then the one in view (shop_in_view, for follow-up
    questions like "liefern die auch?" here and in handlers/vouchers.py)."""
    ctx.state["shop_in_view"] = shop.id
    today, _open = today_status(ctx, shop)
    lines = [
        f"{shop.name} – {ctx.t(f'shops.category.{shop.category}')}",
        f"{shop.address}" + (f" ({shop.district})" if shop.district else ""),
        today,
        *([day_hours(ctx, shop, day)] if day else []),
        service_line(ctx, shop),
    ]
    if shop.notice:
        lines.append(ctx.t("shops.notice", notice=shop.notice))
    if shop.description:
        lines.append(shop.description)
    latest = await shop_updates.latest_update(ctx.db, shop.id)
    if latest is not None and latest.sent_at is not None:
        when = short_time(ctx, latest.sent_at)
        lines.append(ctx.t("shops.latest_update", when=when, text=latest.text))
    buttons = await card_buttons(ctx, shop)
    buttons.append(Button(ctx.t("shops.button.directions"), payload("shop.route", shop.id)))
    return [Reply("\n".join(lines), buttons)]


async def card_buttons(ctx: Context, shop: Shop) -> list[Button]:
    """A card's buttons but the way there: follow or unfollow, buy a voucher, support."""
    following = await shop_updates.is_following(ctx.db, shop.id, ctx.user.id)
    buttons = [
        Button(ctx.t("shops.button.unfollow"), payload("shop.unfollow", shop.id))
        if following
        else Button(ctx.t("shops.button.follow"), payload("shop.follow", shop.id))
    ]
    if shop.sells_vouchers:
        buttons.append(Button(ctx.t("shops.button.buy_voucher"), payload("voucher.buy", shop.id)))
        buttons.append(Button(ctx.t("shops.button.support"), payload("voucher.donate", shop.id)))
    return buttons


# the actions of a shop card's buttons ("shop.follow:ID", ...): while the chat's latest buttons
# include one of them for the shop in view, its card is still the latest answer
CARD_ACTIONS = ("shop.follow", "shop.unfollow", "voucher.buy", "voucher.donate", "shop.route")


def shop_in_view(ctx: Context) -> int | None:
    """The id of the shop whose card is still the chat's latest answer (its buttons are the
    latest offered); None – and forgotten – once another answer came after the card."""
    shop_id = ctx.state.get("shop_in_view")
    if not isinstance(shop_id, int):
        ctx.state.pop("shop_in_view", None)
        return None
    card_payloads = {payload(action, shop_id) for action in CARD_ACTIONS}
    if any(data in card_payloads for _label, data in ctx.state.get("buttons") or []):
        return shop_id
    ctx.state.pop("shop_in_view", None)
    return None


def shop_list(
    ctx: Context,
    found: list[Shop],
    header: str,
    action: str = "shop.card",
    *,
    first: int = 1,
    footer: str = "",
    buttons: list[Button] | None = None,
    day: date | None = None,
) -> Reply:
    """Several shops in one message: numbered lines and one keyboard ('1 Details', ...);
    first, footer and the page's own buttons as listing.page's, day the hours each line
    shows (list_line). No single shop is in view any more."""
    ctx.state.pop("shop_in_view", None)
    label = ctx.t(ACTION_LABELS.get(action, "button.choose"))
    items = [Item(list_line(ctx, s, day), [Button(label, payload(action, s.id))]) for s in found]
    return listing.page(
        header, items, separator="\n", first=first, footer=footer, buttons=buttons or []
    )


async def unknown_shop(ctx: Context, name: str) -> list[Reply]:
    """No shop of that name: the closest names, each with its card as a button."""
    names = await shops.closest_names(ctx.db, name)
    found = [s for s in [await shops.shop_by_name(ctx.db, n) for n in names] if s is not None]
    if not found:
        return [Reply(ctx.t("shops.unknown_none", name=name))]
    return [shop_list(ctx, found, ctx.t("shops.unknown", name=name))]


# --- finding shops -------------------------------------------------------------------------


async def _by_name(ctx: Context, name: str) -> list[Shop]:
    """Shops matching a name: the exact one if any, else the fuzzy matches."""
    exact = await shops.shop_by_name(ctx.db, name)
    if exact is not None:
        return [exact]
    key = await shops.shop_by_key(ctx.db, name.replace(" ", "-"))
    if key is not None:
        return [key]
    found = await shops.find_shops(ctx.db, name, limit=LIST_LIMIT)
    lowered = name.strip().lower()
    same = [s for s in found if s.name.lower() == lowered or lowered in map(str.lower, s.aliases)]
    return same[:1] or found


def owner_part(text: str) -> str | None:
    """The part of a shop card a text names ('öffnungszeiten' -> 'hours'), if any."""
    return next((p for p, words in OWNER_PARTS.items() if re.search(words, text, re.I)), None)


def owner_command(ctx: Context) -> tuple[str, str] | None:
    """The owner's command a shop owner's own words ask for: 'meine umsätze' -> /sales,
    'öffnungszeiten ändern' -> /myshop hours, 'mein laden' -> /myshop; None for anyone
    else and for a citizen's question ('hat café rosa offen')."""
    if not ctx.orgs("shop_owner"):
        return None
    text = ctx.incoming.text
    part = owner_part(text)
    if SALES_WORDS.search(text) and MY_OWN.search(text) and part is None:
        return "sales", ""
    if part and EDIT_WORDS.search(text):
        return "myshop", part
    if MY_SHOP.search(text) or (part and MINE.search(text)):
        return "myshop", ""
    return None


async def owner_asks(ctx: Context) -> list[Reply] | None:
    """The answer to a shop owner's own request about their shop (owner_command), through
    that command's route; None if the message is no such request."""
    found = owner_command(ctx)
    if found is None:
        return None
    name, args = found
    return await registry.commands[name](ctx, [args])


@intent("shop_info", answers_where=True, follow_ups=True)
async def shop_info(ctx: Context) -> list[Reply]:
    """A shop's card, or the shops of a category / district (only delivering ones if asked);
    a shop owner's 'mein laden' / 'meine umsätze' their /myshop or /sales (owner_asks)."""
    if not ctx.entity("shop"):
        answered = await owner_asks(ctx)
        if answered is not None:
            return answered
    name = ctx.entity("shop")
    category = ctx.entity("shop_category", any_intent=True) or category_in(ctx.incoming.text)
    district = ctx.entity("location", any_intent=True)
    if name:
        found = await _by_name(ctx, name)
        if len(found) == 1:
            return await card(ctx, found[0], asked_day(ctx))
        if found:
            return [shop_list(ctx, found, ctx.t("shops.found", count=len(found)))]
        return await unknown_shop(ctx, name)
    in_view = await shop_referred_to(ctx, category, district)
    if in_view is not None and asks_where_it_is(ctx.incoming.text):
        return await directions(ctx, in_view.id)  # "wo ist die?" under its card
    if in_view is not None:
        return await card(ctx, in_view, asked_day(ctx))
    return await search(ctx, category, district)


async def shop_referred_to(
    ctx: Context, category: str | None, district: str | None
) -> Shop | None:
    """The shop whose card was shown last (shop_in_view) if the message means it without its
    name: "hat sie sonntags offen", "liefern die auch?", "and on sunday?" – not when it names a
    category, a district or shops in general ("welche läden haben sonntags offen")."""
    text = ctx.incoming.text
    shop_id = shop_in_view(ctx)
    if shop_id is None or category or district or MANY_SHOPS.search(text):
        return None
    if not (REFERRING_WORDS.search(text) or asks_where_it_is(text)):
        return None
    return await shops.get_shop(ctx.db, shop_id)


def category_in(text: str) -> str | None:
    """The shop category a text names by a common word, if any."""
    lowered = text.lower()
    return next((c for c, words in CATEGORY_WORDS.items() if re.search(words, lowered)), None)


async def search(ctx: Context, category: str | None, district: str | None) -> list[Reply]:
    """Shops of a category and district, filtered by delivery / pickup words of the message."""
    text = ctx.incoming.text
    wanted = {
        "category": category,
        "district": district,
        "delivers": bool(DELIVER_WORDS.search(text)),
        "pickup": bool(PICKUP_WORDS.search(text)),
        "open_now": bool(OPEN_NOW_WORDS.search(text)),
        "day": day.isoformat() if (day := named_day(ctx)) else None,
    }
    ctx.state["shop_query"] = wanted
    return await _search_page(ctx, wanted, 0)


async def _search_page(ctx: Context, wanted: dict[str, Any], offset: int) -> list[Reply]:
    """One page (LIST_LIMIT shops) of a search; the first names it, each says which shops."""
    category, district = wanted.get("category"), wanted.get("district")
    delivers, pickup = bool(wanted.get("delivers")), bool(wanted.get("pickup"))
    open_now = bool(wanted.get("open_now"))
    day = date.fromisoformat(wanted["day"]) if wanted.get("day") else None

    async def matching(in_district: str | None) -> list[Shop]:
        found = await shops.find_shops(ctx.db, category=category, district=in_district, limit=500)
        return [
            s
            for s in found
            if (s.delivers or not delivers)
            and (s.pickup or not pickup)
            and (not open_now or today_status(ctx, s)[1])
            and (day is None or hours_on(ctx, s, day)[0])
        ]

    found = await matching(district)
    widened = False
    if not found and district:
        found, widened = await matching(None), True
    what = describe_search(ctx, category, None if widened else district, delivers, pickup)
    if open_now:
        what += " · " + ctx.t("shops.open_now")
    if day is not None:
        shown_day = format_date(day, ctx.t("shops.day_pattern"), locale=ctx.lang)
        what += " · " + ctx.t("shops.open_on", day=shown_day)
    if not found:
        return [Reply(ctx.t("shops.none", what=what))]
    if len(found) == 1 and not widened:
        return await card(ctx, found[0], day if day != now_in_city(ctx).date() else None)
    key = "shops.found_elsewhere" if widened else "shops.found_what"
    header = ctx.t(key, count=len(found), what=what, district=district or "") if not offset else ""
    shown = found[offset : offset + LIST_LIMIT]
    if not shown:
        return [Reply(ctx.t("button.expired"))]
    footer = ""
    if len(found) > LIST_LIMIT:
        shown_range = f"{offset + 1}–{offset + len(shown)}"
        footer = ctx.t("shops.page", shown=shown_range, total=len(found))
    more = offset + LIST_LIMIT
    buttons = (
        [Button(ctx.t("button.more"), payload("shops.more", more))] if more < len(found) else []
    )
    return [
        shop_list(ctx, shown, header, first=offset + 1, footer=footer, buttons=buttons, day=day)
    ]


@button("shops.more")
async def more_shops(ctx: Context, offset: int) -> list[Reply]:
    """The next page of the last shop search."""
    return await _search_page(ctx, ctx.state.get("shop_query") or {}, max(offset, 0))


def describe_search(
    ctx: Context, category: str | None, district: str | None, delivers: bool, pickup: bool
) -> str:
    """The search in words: 'Blumenläden · liefern'."""
    parts = [ctx.t(f"shops.categories.{category}") if category else ctx.t("shops.all_shops")]
    if district:
        parts.append(district)
    if delivers:
        parts.append(ctx.t("shops.with_delivery"))
    if pickup:
        parts.append(ctx.t("shops.with_pickup"))
    return " · ".join(parts)


@button("shops.browse")
async def browse(ctx: Context) -> list[Reply]:
    """The menu's shop button: every shop."""
    return await search(ctx, None, None)


@button("shop.card")
async def show_card(ctx: Context, shop_id: int) -> list[Reply]:
    """One shop's card."""
    shop = await shops.get_shop(ctx.db, shop_id)
    if shop is None:
        return [Reply(ctx.t("shops.gone"))]
    return await card(ctx, shop)


@deep_link("shop")
async def open_link(
    ctx: Context, a: str, b: str = "", c: str = "", d: str = "", e: str = "", f: str = ""
) -> list[Reply]:
    """Deep link shop-KEY (the key's own dashes split it into parts): that shop's card."""
    key = "-".join(part for part in (a, b, c, d, e, f) if part)
    shop = await shops.shop_by_key(ctx.db, key)
    if shop is None:
        return [Reply(ctx.t("shops.gone"))]
    return await card(ctx, shop)


@button("shop.route")
async def directions(ctx: Context, shop_id: int) -> list[Reply]:
    """The way to the shop: its address as a map link (and a venue where it has coordinates)."""
    shop = await shops.get_shop(ctx.db, shop_id)
    if shop is None:
        return [Reply(ctx.t("shops.gone"))]
    venue = None
    if shop.latitude is not None and shop.longitude is not None:
        venue = Venue(shop.latitude, shop.longitude, shop.name, shop.address)
    text = ctx.t("shops.directions", name=shop.name, address=shop.address, link=map_link(shop))
    ctx.state["shop_in_view"] = shop.id  # with the card's buttons: still the shop talked about
    return [Reply(text, await card_buttons(ctx, shop), venue=venue)]


# --- following -----------------------------------------------------------------------------


async def _follow(ctx: Context, shop: Shop) -> list[Reply]:
    created = await shop_updates.follow(ctx.db, shop.id, ctx.user.id)
    key = "shops.followed" if created else "shops.already_following"
    unfollow = Button(ctx.t("shops.button.unfollow"), payload("shop.unfollow", shop.id))
    return [Reply(ctx.t(key, name=shop.name), [unfollow])]


async def _unfollow(ctx: Context, shop: Shop) -> list[Reply]:
    removed = await shop_updates.unfollow(ctx.db, shop.id, ctx.user.id)
    if not removed:
        return [Reply(ctx.t("shops.not_following", name=shop.name))]
    follow_again = Button(ctx.t("shops.button.follow"), payload("shop.follow", shop.id))
    return [Reply(ctx.t("shops.unfollowed", name=shop.name), [follow_again])]


async def _named_shop(ctx: Context, name: str, action: str) -> Shop | list[Reply]:
    """The one shop a name means, or the replies that ask which one (or say none is known)."""
    found = await _by_name(ctx, name)
    if len(found) == 1:
        return found[0]
    if found:
        return [shop_list(ctx, found, ctx.t("shops.which", name=name), action)]
    return await unknown_shop(ctx, name)


@button("shop.follow")
async def follow_button(ctx: Context, shop_id: int) -> list[Reply]:
    """Follow a shop from its card."""
    shop = await shops.get_shop(ctx.db, shop_id)
    return [Reply(ctx.t("shops.gone"))] if shop is None else await _follow(ctx, shop)


@button("shop.unfollow", by_number=False)
async def unfollow_button(ctx: Context, shop_id: int) -> list[Reply]:
    """Unfollow a shop (from its card or the button under each update)."""
    shop = await shops.get_shop(ctx.db, shop_id)
    return [Reply(ctx.t("shops.gone"))] if shop is None else await _unfollow(ctx, shop)


def names_nothing(args: str) -> bool:
    """Whether a command's words name nothing: empty or punctuation only ("/follow ...")."""
    return re.search(r"\w", args) is None


async def shop_to_follow_in_view(ctx: Context) -> Shop | None:
    """The shop in view that a follow or unfollow wish without a name points at: "follow it",
    "unfollow them", "folge dem laden", "dem will ich folgen" (shop_referred_to)."""
    shop = await shop_referred_to(ctx, None, None)
    text = ctx.incoming.text  # "yes i want to follow": the card's own offer
    if shop is not None or not (FOLLOW_REFERRING_WORDS.search(text) or begins_with_yes(text)):
        return shop
    shop_id = shop_in_view(ctx)
    return await shops.get_shop(ctx.db, shop_id) if shop_id is not None else None


@command("follow", help_key="help.cmd.follow")
async def follow_command(ctx: Context, args: str = "") -> list[Reply]:
    """/follow NAME."""
    if names_nothing(args):
        return [Reply(ctx.t("shops.follow_usage"))]
    found = await _named_shop(ctx, args.strip(), "shop.follow")
    return found if isinstance(found, list) else await _follow(ctx, found)


@command("unfollow", help_key="help.cmd.unfollow")
async def unfollow_command(ctx: Context, args: str = "") -> list[Reply]:
    """/unfollow NAME (without a name: the followed shops to pick from)."""
    if names_nothing(args):
        return await following(ctx)
    name = args.strip()
    followed = await shop_updates.followed_shops(ctx.db, ctx.user.id)
    matching = await _by_name(ctx, name)
    mine = [s for s in followed if s in matching]
    if len(mine) == 1:
        return await _unfollow(ctx, mine[0])
    found = await _named_shop(ctx, name, "shop.unfollow")
    return found if isinstance(found, list) else await _unfollow(ctx, found)


@intent("subscribe_shop")
async def subscribe_shop(ctx: Context) -> list[Reply]:
    """'follow Café Rosa': follow the named shop (explicit opt-in); 'follow it' the one in view."""
    name = ctx.entity("shop")
    if not name:
        in_view = await shop_to_follow_in_view(ctx)
        return await _follow(ctx, in_view) if in_view else [Reply(ctx.t("shops.follow_which"))]
    found = await _named_shop(ctx, name, "shop.follow")
    return found if isinstance(found, list) else await _follow(ctx, found)


@intent("unsubscribe_shop")
async def unsubscribe_shop(ctx: Context) -> list[Reply]:
    """'unfollow the bookshop': stop the named shop's updates ('unfollow them': the shop in view;
    no name: pick from the list); a shop's bare name the NLU took for this ("trattoria da
    enzo") is its card (shop_info)."""
    name = ctx.entity("shop")
    if name and not UNFOLLOW_WORDS.search(ctx.incoming.text) and not await _follows(ctx, name):
        return await shop_info(ctx)
    in_view = None if name else await shop_to_follow_in_view(ctx)
    if in_view is not None:  # "unfollow them" under its card
        return await _unfollow(ctx, in_view)
    if not name and not await shop_updates.followed_shops(ctx.db, ctx.user.id):
        # "ich will keine benachrichtigungen mehr" from someone who follows no shop: their
        # notifications are elsewhere (job alerts), say where
        return [Reply(ctx.t("shops.unsubscribe_none"))]
    if not name:
        return await following(ctx)
    return await unfollow_command(ctx, name)


async def _follows(ctx: Context, name: str) -> bool:
    """Whether the user follows a shop of that name."""
    followed = await shop_updates.followed_shops(ctx.db, ctx.user.id)
    return any(shop in followed for shop in await _by_name(ctx, name))


@command("following", help_key="help.cmd.following", private=True)
async def following(ctx: Context, _args: str = "") -> list[Reply]:
    """The shops the user follows, each with an unfollow button (one message)."""
    followed = await shop_updates.followed_shops(ctx.db, ctx.user.id)
    if not followed:
        return [Reply(ctx.t("shops.following_none"))]
    ctx.state.pop("shop_in_view", None)  # a list: no single shop in view
    label = ctx.t("shops.button.unfollow")
    items = [Item(s.name, [Button(label, payload("shop.unfollow", s.id))]) for s in followed]
    return [listing.page(ctx.t("shops.following", count=len(followed)), items, separator="\n")]


menu_entry("menu.shops", "shops.browse", order=30)


@org_name("shop_owner")
async def shop_name(db: Any, key: str) -> str | None:
    """A shop owner's organisation is the shop's key: its name (None: no such shop)."""
    shop = await shops.shop_by_key(db, key)
    return shop.name if shop else None
