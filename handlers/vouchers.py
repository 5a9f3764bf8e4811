"""Vouchers for citizens: buy (Telegram invoice or pay in the shop), donate, my vouchers, balance.

The shop's side (redeem, confirm payments, sales) is handlers/vouchers_shop.py.

```mermaid
stateDiagram-v2
    [*] --> reserved: buy form confirmed (issue +face)
    reserved --> active: Telegram payment / shop's /confirmpay (payment)
    reserved --> lapsed: not paid within vouchers.reservation_days (lapse -face)
    lapsed --> active: a payment arrives after all (issue +face, payment)
    active --> active: /redeem, QR photo, "gutschein ... einlösen" (redemption -x)
    active --> expired: 31 Dec of the purchase year + 3 (expiry -rest)
    expired --> [*]
```
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import segno
from apscheduler.triggers.interval import IntervalTrigger
from babel.numbers import format_currency
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.forms import (
    HELD,
    Changed,
    Choice,
    Form,
    Invalid,
    Slot,
    begins_with_yes,
    form_args,
    form_values,
)
from bot.i18n import format_day
from bot.messages import Attachment, Invoice, Payment, Reply
from bot.notify import cancel_reminders, remind
from bot.registry import button, command, intent, payload, payment, split_payload
from bot.scheduler import recurring, runtime
from handlers import account
from handlers.shops import category_in, owner_asks, shop_in_view
from nlu.normalize import tokenize
from nlu.numbers import find_amounts, number_words
from storage import users, vouchers
from storage.base import utcnow
from storage.shops import (
    NAMING_SIMILARITY,
    Shop,
    all_shops,
    find_shops,
    get_shop,
    name_order,
    names_shop,
    naming_similarity,
    scored_shops,
    shop_by_name,
    shops_named,
)
from storage.vouchers import CodeError, Voucher

logger = logging.getLogger(__name__)
PAY_PREFIX = "voucher"
SHOP_BUTTONS = 6
OFFERED_SHOPS = 12  # the shop question offers up to this many voucher shops as buttons
DID_YOU_MEAN = 3  # an unknown shop: the voucher shops closest to it, as buttons
TIE_POINTS = 5  # fuzzy scores this close to the best fit a typed shop about equally
CANDIDATES = "candidates"  # form arg: the shops a typed answer fitted, offered as buttons
FILLER_WORDS = {"ein", "eine", "einen", "der", "die", "das", "den", "dem", "the", "a", "an"}
CURRENCY_LOCALE = {"de": "de_DE", "en": "en_IE"}
AMOUNT = re.compile(
    r"^(?:(?:€|eur|euro)\s*)?(?P<sign>[-−+]?)\s*(?:(?:€|eur|euro)\s*)?(?P<num>\d[\d.,]*)"
    r"\s*(?:€|eur|euro|euros)?[.!]?$",
    re.IGNORECASE,
)
# words around an amount that do not change it: "20 euro bitte", "ca. 20", "about 20, please"
ABOUT = re.compile(r"^(?:ca\.?|circa|zirka|etwa|ungefähr|about|around|approx\.?|roughly)\s*",
                   re.IGNORECASE)
POLITE = re.compile(r"[\s,]+(?:bitte|please|pls|danke|thanks|thank\s+you)[.!]?$", re.IGNORECASE)
# words that choose another shop in the buy form, not ask about it ("doch lieber für ...")
CHOOSING_WORDS = re.compile(
    r"\b(?:lieber|eher|stattdessen|statt|instead|rather|make\s+it|prefer|switch\s+to"
    r"|change\s+(?:it\s+)?to|nimm|nehmen?|i'?ll\s+take|take\s+(?:it\s+)?(?:for|at)"
    r"|doch\s+(?:f(?:ü|ue)r|bei|die|den|das|einen?))\b",
    re.IGNORECASE,
)
# the words a bare shop answer may have beside the shop's name ("für die bäckerei müller bitte")
SHOP_ANSWER_WORDS = FILLER_WORDS | {
    "für", "fuer", "for", "bei", "at", "von", "from", "im", "in", "bitte", "please", "ok", "okay",
    "ach", "oh", "nein", "no", "ja", "yes", "doch", "dann", "then", "gutschein", "voucher",
}
# a correction of the amount at the confirmation: its words, then the amount ("no wait, 20")
AMOUNT_CHANGE = re.compile(
    r"(?:(?:no|nope|nein|ne|wait|warte?|actually|eigentlich|sorry|oh|ach|ähm|oder|or|doch"
    r"|lieber|eher|besser|rather|make\s+it|mach\s+(?:es|das|daraus)|machen\s+wir|nimm"
    r"|let'?s\s+say|sagen\s+wir|change\s+(?:it\s+)?to|instead|stattdessen|dann|then)"
    r"\b[\s,.!:;-]*)+(?P<amount>.+?)(?:[\s,]+(?:instead|stattdessen|dann|then))?[.!]?",
    re.IGNORECASE,
)
GROUPING = {"de": ".", "en": ","}  # "1.000" is a thousand in German, "1,000" in English
CENTS = re.compile(r"(?P<num>\d{1,9})\s*(?:cents?|ct)\.?[.!]?", re.IGNORECASE)
NO_CENTS = re.compile(r"(?<=\d)[.,][-–—]{1,2}(?=\s*(?:€|eur|euro|euros)?[.!]?$)", re.IGNORECASE)


# --- money, codes, QR -------------------------------------------------------------------


def money(cents: int, language: str) -> str:
    """Cents as the user reads money: '12,50 €' (de) or '€12.50' (en)."""
    locale = CURRENCY_LOCALE.get(language, "de_DE")
    return format_currency(Decimal(cents) / 100, "EUR", locale=locale).replace("\xa0", " ")


def parse_cents(text: str, language: str = "de") -> int:
    """A typed amount of euros in cents ('25', '25,-', '12,50', '€12.50', 'zwölf euro fünfzig').

    Raises Invalid with the reason: unclear, not positive, more than two decimals.
    """
    text = NO_CENTS.sub("", _bare_amount(text))  # "25,-" and "25,– €": whole euros
    cents = CENTS.fullmatch(text)  # "50 cents", "50 cent", "50 ct"
    if cents is not None:
        return _positive(int(cents.group("num")))
    match = AMOUNT.match(text)
    group = re.escape(GROUPING.get(language, "."))
    number = match and re.fullmatch(
        rf"(?P<int>\d{{1,3}}(?:{group}\d{{3}})+|\d+)(?:[.,](?P<dec>\d*))?", match.group("num")
    )
    if match is None or number is None:
        amounts = find_amounts(text, tokenize(text))
        words = [a for a in amounts if a["start"] == 0 and a["end"] >= len(text.rstrip(" .!"))]
        if words:
            return int(words[0]["value"])
        return _euros_in_words(text)
    decimals = number.group("dec") or ""
    if len(decimals) > 2:
        raise Invalid("vouchers.amount.decimals")
    euros = int(re.sub(r"\D", "", number.group("int")))
    cents = euros * 100 + int(decimals.ljust(2, "0"))
    if match.group("sign") in ("-", "−") or cents <= 0:
        raise Invalid("vouchers.amount.positive")
    return cents


def _bare_amount(text: str) -> str:
    """A typed amount without the words around it that do not change it ("20 euro bitte",
    "ca. 20")."""
    text = text.strip().rstrip("?").strip()  # "15?", "15 euro?": the amount asked for
    while (shorter := POLITE.sub("", ABOUT.sub("", text)).strip()) != text and shorter:
        text = shorter
    return text


def _positive(cents: int) -> int:
    """The cents, if more than nothing; else Invalid."""
    if cents <= 0:
        raise Invalid("vouchers.amount.positive")
    return cents


def _euros_in_words(text: str) -> int:
    """Whole euros written only as number words ("zwanzig", "fünfundzwanzig") in cents;
    Invalid if the text is anything else."""
    tokens = tokenize(text)
    said = number_words(tokens, 0) if tokens else None
    if said is None or said[1] != len(tokens):
        raise Invalid("vouchers.amount.unclear")
    if said[0] <= 0:
        raise Invalid("vouchers.amount.positive")
    return said[0] * 100


def qr_png(code: str) -> bytes:
    """A PNG of the code's QR (the code as shown, XXXX-XXXX) – a normal QR code, never a Micro
    QR (which phone cameras and most scanner apps cannot read)."""
    buffer = io.BytesIO()
    qr = segno.make_qr(vouchers.format_code(code), error="m")
    qr.save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def can_invoice(ctx: Context) -> bool:
    """Whether this chat can pay with a Telegram invoice."""
    telegram = ctx.config.telegram
    return bool(
        ctx.incoming.platform == "telegram" and telegram and telegram.payments.provider_token
    )


def show_date(moment: datetime, ctx: Context) -> str:
    """A moment as a date in the city, in the user's language."""
    return format_day(moment.astimezone(ctx.config.city.tz), ctx.lang)


def _last_day(voucher: Voucher) -> datetime:
    assert voucher.expires_at is not None
    return voucher.expires_at - timedelta(seconds=1)


# --- guessing: the one place that decides (the lead may switch it to bot/ratelimit.py) ------


async def guessing_blocked(ctx: Context) -> bool:
    """Whether the user tried too many unknown codes in the configured window."""
    settings = ctx.config.vouchers
    since = utcnow() - timedelta(minutes=settings.wrong_codes_window_minutes)
    tried = await vouchers.wrong_codes_since(ctx.db, ctx.user.id, since)
    return tried >= settings.wrong_codes_limit


async def wrong_code(ctx: Context) -> None:
    """Count an unknown code against the user (logged without the code)."""
    await vouchers.record_wrong_code(ctx.db, ctx.user.id)
    logger.info("unknown voucher code user=%s", ctx.user.id)


async def lookup(ctx: Context, raw: str, *, lock: bool = False) -> Voucher | list[Reply]:
    """The voucher of a typed code, or the answer why not (format, check, throttle, unknown)."""
    try:
        code = vouchers.read_code(raw)
    except CodeError as error:
        return [Reply(ctx.t(error.reason))]
    if await guessing_blocked(ctx):
        return [Reply(ctx.t("vouchers.code.try_later"))]
    voucher = await vouchers.by_code(ctx.db, code, lock=lock)
    if voucher is None:
        await wrong_code(ctx)
        return [Reply(ctx.t("vouchers.unknown_code"))]
    return voucher


def code_argument(text: str) -> str:
    """The code a command's words name: all of them if they read as one, else the first
    code-shaped word ('/balance K7QF-2M9X bitte'); the text itself if none is (for its error)."""
    words = text.split()
    shaped = vouchers.code_in_text(text)
    for candidate in (text, shaped, " ".join(words[:2])):
        if candidate:
            try:
                vouchers.read_code(candidate)
            except CodeError:
                continue
            return candidate
    return shaped or text


def code_from(ctx: Context, text: str) -> str | None:
    """The code the message names (NLU entity, or anything code-shaped for a clear answer)."""
    return ctx.entity("voucher_code", any_intent=True) or vouchers.code_in_text(text)


# --- buying -------------------------------------------------------------------------------


def _category_word(text: str) -> str | None:
    """The category of a text that is only a category word ("bäckerei", "eine bakery")."""
    words = [w for w in text.lower().split() if w not in FILLER_WORDS]
    return category_in(words[0]) if len(words) == 1 else None


async def _shops_meant(ctx: Context, text: str) -> list[Shop]:
    """The shops a typed shop answer may mean: the one (or ones) it names exactly, else the
    fuzzy matches about as good as the best and, for a category word, that category's shops."""
    named = await shops_named(ctx.db, text)
    if named:
        return named
    scored = [(score, shop) for score, shop in await scored_shops(ctx.db, text)
              if names_shop(text, shop)]  # not "what am I to do" for "Buchhandlung am Markt"
    found = [shop for score, shop in scored if score >= scored[0][0] - TIE_POINTS]
    category = _category_word(text) if found else category_in(text)
    if category:
        ids = {shop.id for shop in found}
        of_category = await find_shops(ctx.db, category=category, limit=50)
        found += [shop for shop in of_category if shop.id not in ids]
    return found


async def _parse_shop(ctx: Context, text: str) -> str:
    args = form_args(ctx)
    args.pop(CANDIDATES, None)  # a new answer: the last one's candidates are gone
    pressed = re.fullmatch(r"#(\d{1,9})", text.strip())
    if pressed:
        shop = await get_shop(ctx.db, int(pressed.group(1)))
        found = [shop] if shop else []
    else:
        found = await _shops_meant(ctx, text)
    if not found:  # the closest voucher shops are offered as buttons by _shop_suggestions
        args[CANDIDATES] = [shop.id for shop in await _closest_sellers(ctx, text)]
        raise Invalid("vouchers.unknown_shop")
    sellers = sorted(
        (shop for shop in found if shop.sells_vouchers), key=lambda shop: name_order(shop.name)
    )
    if len(sellers) > 1:  # "bäckerei": which one? (offered as buttons by _shop_suggestions)
        args[CANDIDATES] = [shop.id for shop in sellers[:SHOP_BUTTONS]]
        raise Invalid("vouchers.which_shop", text=" ".join(text.split()))
    if not sellers:
        raise Invalid("vouchers.no_vouchers", shop=found[0].name)
    return sellers[0].name


def _in_range(cents: int, shop: Shop) -> bool:
    """Whether the shop sells a voucher of that amount (its minimum to maximum)."""
    return shop.voucher_min_cents <= cents <= shop.voucher_max_cents


def _check_amount(ctx: Context, cents: int, shop: Shop) -> None:
    if not _in_range(cents, shop):
        raise Invalid(
            "vouchers.amount.range",
            min=money(shop.voucher_min_cents, ctx.lang),
            max=money(shop.voucher_max_cents, ctx.lang),
        )


async def _parse_voucher_amount(ctx: Context, text: str) -> int:
    try:
        cents = parse_cents(text, ctx.lang)
    except Invalid:
        await _switch_shop(ctx)  # "ach nein, lieber für die trattoria da enzo"
        raise
    shop = await shop_by_name(ctx.db, form_values(ctx).get("shop", ""))
    if shop is not None:
        _check_amount(ctx, cents, shop)
    return cents


async def _switch_shop(ctx: Context) -> None:
    """At the amount step, an answer choosing another voucher shop changes the form's shop: said
    (Invalid), and the amount asked again with that shop's amounts and limits. A question about
    a shop ("wann hat die bäckerei müller offen") chooses none (see _chooses_shop)."""
    await ctx.understand()
    values = form_values(ctx)
    shop = await _chosen_shop(ctx, values.get("shop"))
    if shop is None:
        return
    values["shop"] = shop.name
    raise Changed("vouchers.buy.shop_changed", shop=shop.name)


async def _chosen_shop(ctx: Context, current: str | None) -> Shop | None:
    """The other voucher shop the (understood) message chooses, or None: also when it only asks
    about a shop."""
    name = ctx.entity("shop", any_intent=True)
    if not name or name == current or not _chooses_shop(ctx):
        return None
    shop = await shop_by_name(ctx.db, name)
    return shop if shop is not None and shop.sells_vouchers else None


def _chooses_shop(ctx: Context) -> bool:
    """Whether a message naming a shop chooses it: words that choose ("doch lieber für die
    bäckerei müller", "make it for bäckerei müller instead") or the shop's name alone ("für die
    bäckerei müller bitte") – not a question about it ("hat der blumenladen heute offen")."""
    text = ctx.incoming.text
    if CHOOSING_WORDS.search(text):
        return True
    spans = [
        (e["start"], e["end"])
        for e in (ctx.parse or {}).get("entities", [])
        if e["entity"] in ("shop", "shop_category") and "start" in e and "end" in e
    ]
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]} {text[end:]}"
    rest = re.sub(r"[^\w ]", " ", text.lower()).split()
    return bool(spans) and all(word in SHOP_ANSWER_WORDS for word in rest)


async def _sellers(ctx: Context, category: str | None = None) -> list[Shop]:
    """The shops that sell vouchers (of a category), by name."""
    return [
        shop
        for shop in await all_shops(ctx.db)
        if shop.sells_vouchers and (category is None or shop.category == category)
    ]


async def _closest_sellers(ctx: Context, text: str) -> list[Shop]:
    """The voucher shops whose names are closest to a text no shop fits ("did you mean");
    none when the text names no shop at all ("was soll ich hier machen?": the question keeps
    its own list, see _shop_suggestions)."""
    ranked = sorted(
        ((naming_similarity(text, shop), shop) for shop in await _sellers(ctx)),
        key=lambda pair: -pair[0],
    )
    return [shop for score, shop in ranked if score >= NAMING_SIMILARITY][:DID_YOU_MEAN]


async def _shop_suggestions(ctx: Context) -> list[Choice]:
    """Voucher shops as buttons: those a typed answer fitted (or came closest to), else those
    of the category the message named ("gutschein für eine bäckerei"), else all of them."""
    candidates = form_args(ctx).get(CANDIDATES)
    if candidates:
        found = [await get_shop(ctx.db, shop_id) for shop_id in candidates]
        return [Choice(f"#{s.id}", s.name) for s in found if s is not None and s.sells_vouchers]
    category = form_args(ctx).get("category")
    found = (await _sellers(ctx, category) if category else [])[:SHOP_BUTTONS]
    found = found or (await _sellers(ctx))[:OFFERED_SHOPS]
    return [Choice(f"#{shop.id}", shop.name) for shop in found]


async def _voucher_amounts(ctx: Context) -> list[Choice]:
    """The shop's offered amounts within its current range, as buttons."""
    shop = await shop_by_name(ctx.db, form_values(ctx).get("shop", ""))
    if shop is None:
        return []
    low, high = shop.voucher_min_cents, shop.voucher_max_cents
    return [_labelled(ctx, c) for c in shop.voucher_amounts if low <= c <= high]


def _labelled(ctx: Context, cents: int) -> Choice:
    """An amount button: its value is typed-answer text ('12.50'), its label the money."""
    return Choice(f"{cents // 100}.{cents % 100:02d}", money(cents, ctx.lang))


def _payment_note(ctx: Context, kind: str = vouchers.VOUCHER) -> str:
    """How it is paid: by invoice here or in the shop (a donation's note names no voucher)."""
    prefix = "vouchers.pay" if kind == vouchers.VOUCHER else "vouchers.donate.pay"
    if can_invoice(ctx):
        return ctx.t(f"{prefix}.invoice")
    return ctx.t(f"{prefix}.in_shop", days=ctx.config.vouchers.reservation_days)


class BuyVoucherForm(Form):
    """Buy a voucher: shop, amount (offered or custom within the shop's limits), confirm."""

    name = "voucher.buy"
    slots: ClassVar[list[Slot]] = [
        Slot(
            "shop",
            "vouchers.buy.ask_shop",
            parse=_parse_shop,
            entity="shop",
            suggest=_shop_suggestions,
        ),
        Slot(
            "amount",
            "vouchers.buy.ask_amount",
            parse=_parse_voucher_amount,
            entity="amount",
            suggest=_voucher_amounts,
        ),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The voucher about to be bought and how it is paid."""
        amount = money(values["amount"], ctx.lang)
        text = ctx.t("vouchers.buy.summary", shop=values["shop"], amount=amount)
        return f"{text}\n{_payment_note(ctx)}"

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Reserve the voucher; send the invoice or the code to pay in the shop. An amount the
        shop's range no longer allows (changed since it was typed) is asked again in the form."""
        shop = await shop_by_name(ctx.db, values["shop"])
        if shop is None:
            return [Reply(ctx.t("vouchers.shop_gone"))]
        if not shop.sells_vouchers:
            return [Reply(ctx.t("vouchers.not_selling", shop=shop.name))]
        try:
            _check_amount(ctx, values["amount"], shop)
        except Invalid as invalid:
            error = Reply(ctx.t(invalid.key, **invalid.values))
            return [error, *await _ask_amount_again(ctx, shop, args)]
        return await _reserve(ctx, shop, values["amount"], vouchers.VOUCHER)

    @classmethod
    async def revise(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> bool:
        """A change said at the confirmation ("doch lieber 50 euro", "lieber für die trattoria
        da enzo"): the new amount or voucher shop taken, an amount outside the (new) shop's
        range dropped so that it is asked again; False when the message changes neither (a
        question about a shop changes nothing: "wann hat die bäckerei müller offen").
        The form engine calls it at the confirmation step (bot/forms.py)."""
        await ctx.understand()
        cents = ctx.entity("amount", any_intent=True) or _changed_amount(ctx)
        shop = await _chosen_shop(ctx, values["shop"])  # not "wann hat die bäckerei offen"
        if shop is not None:
            values["shop"] = shop.name
        elif cents is None or cents == values.get("amount"):
            return False
        values["amount"] = cents if cents is not None else values["amount"]
        current = shop or await shop_by_name(ctx.db, values["shop"])
        if current is not None and not _in_range(values["amount"], current):
            del values["amount"]  # outside this shop's range: asked again
        return True


def _changed_amount(ctx: Context) -> int | None:
    """The amount a correction at the confirmation names in words the NLU may not read as
    money ("no wait make it 20", "actually make it 20", "no wait, 20"), or None."""
    said = AMOUNT_CHANGE.fullmatch(ctx.incoming.text.strip())
    if said is None:
        return None
    try:
        return parse_cents(said.group("amount"), ctx.lang)
    except Invalid:
        return None


async def _ask_amount_again(ctx: Context, shop: Shop, args: dict[str, Any]) -> list[Reply]:
    """The buy form opened again for the same shop, at its amount question."""
    with_entities(ctx, shop=shop.name, amount=None)
    return await ctx.start_form(BuyVoucherForm, **args)


async def _reserve(ctx: Context, shop: Shop, cents: int, kind: str) -> list[Reply]:
    invoice = can_invoice(ctx)
    voucher = await vouchers.reserve(
        ctx.db,
        shop,
        ctx.user.id,
        cents,
        kind=kind,
        payment=vouchers.INVOICE if invoice else vouchers.IN_SHOP,
        reservation_days=ctx.config.vouchers.reservation_days,
    )
    logger.info("voucher reserved id=%s kind=%s invoice=%s", voucher.id, kind, invoice)
    amount = money(cents, ctx.lang)
    if invoice:
        what = "vouchers.invoice.voucher" if kind == vouchers.VOUCHER else "vouchers.invoice.gift"
        title = ctx.t(what, shop=shop.name)[:32]
        bill = Invoice(
            title=title,
            description=ctx.t("vouchers.invoice.description", shop=shop.name, amount=amount),
            amount_cents=cents,
            payload=payload(PAY_PREFIX, voucher.id),
        )
        return [Reply(ctx.t("vouchers.invoice.sent"), invoice=bill)]
    ctx.private = True
    until = show_date(voucher.reserved_until, ctx)
    code = vouchers.format_code(voucher.code)
    if kind == vouchers.DONATION:
        text = ctx.t(
            "vouchers.donate.reserved", shop=shop.name, amount=amount, code=code, until=until
        )
        return [Reply(text)]
    text = ctx.t("vouchers.buy.reserved", shop=shop.name, amount=amount, code=code, until=until)
    return [_with_qr(Reply(text), voucher)]


def _with_qr(reply: Reply, voucher: Voucher) -> Reply:
    reply.image = Attachment("voucher.png", qr_png(voucher.code), "image/png")
    return reply


def with_entities(ctx: Context, **values: Any) -> None:
    """Let a form be prefilled with known values (as if the message had named them)."""
    parse = dict(ctx.parse or {"intent": {"name": None, "confidence": 1.0}, "entities": []})
    kept = [e for e in parse.get("entities", []) if e["entity"] not in values]
    kept += [{"entity": k, "value": v} for k, v in values.items() if v is not None]
    parse["entities"] = kept
    parse.pop("candidate_entities", None)
    ctx.parse = parse


async def _start_buying(ctx: Context, shop: Shop | None, cents: int | None) -> list[Reply]:
    """Open the buy form with what is known (a category with one voucher shop names it); a
    known bad amount is said and asked again."""
    notes: list[Reply] = []
    category = ctx.entity("shop_category") if shop is None else None
    if category:
        shop = await _only_seller(ctx, category)
        if shop is not None:
            notes.append(Reply(ctx.t("vouchers.buy.only_shop", shop=shop.name)))
    if shop is not None and not shop.sells_vouchers:
        return [Reply(ctx.t("vouchers.no_vouchers", shop=shop.name))]
    if cents is not None and shop is not None:
        try:
            _check_amount(ctx, cents, shop)
        except Invalid as invalid:
            notes.append(Reply(ctx.t(invalid.key, **invalid.values)))
            cents = None
    held: dict[str, str] = {}  # an amount said before the shop: checked once it is chosen
    if shop is None and cents is not None:
        held["amount"] = _labelled(ctx, cents).value
        cents = None
    with_entities(ctx, shop=shop.name if shop else None, amount=cents)
    return [*notes, *await ctx.start_form(BuyVoucherForm, category=category, **{HELD: held})]


async def _only_seller(ctx: Context, category: str) -> Shop | None:
    """The voucher shop of a category, if it is the only one ("ein café": Café Rosa); None if
    there are several or none."""
    sellers = await _sellers(ctx, category)
    return sellers[0] if len(sellers) == 1 else None


# "10 euro spenden für da enzo", "support the bookshop with 20 euros": a donation, no voucher
DONATE_WORDS = re.compile(r"spend|spende|unterstütz|unterstuetz|donat|support", re.IGNORECASE)


@intent("order_voucher", private=True)
async def order_voucher(ctx: Context) -> list[Reply]:
    """Buy a voucher: "ich möchte einen gutschein über 25 euro für café rosa" – or, said so,
    support the shop with a donation ("10 euro spenden für da enzo")."""
    asked = await answer_voucher_question(ctx)  # "kann ich einen gutschein zurückgeben?"
    if asked is not None:
        return asked
    name = ctx.entity("shop")
    shop = await shop_by_name(ctx.db, name) if name else await _shop_referred_to(ctx)
    if DONATE_WORDS.search(ctx.incoming.text):
        return await _start_donating(ctx, shop, ctx.entity("amount"))
    return await _start_buying(ctx, shop, ctx.entity("amount"))


# words that point at the shop just shown ("kann ich da einen gutschein kaufen?")
REFERRING_WORDS = re.compile(
    r"\b(?:da|dort|dem\s+laden|den\s+laden|diesem\s+laden|diesen\s+laden|bei\s+denen"
    r"|bei\s+ihnen|there|that\s+shop|this\s+shop|them|that\s+one)\b",
    re.IGNORECASE,
)


async def _shop_referred_to(ctx: Context) -> Shop | None:
    """The shop whose card was just shown, when the message points at it ("da", "there")."""
    shop_id = shop_in_view(ctx)
    if shop_id is None or ctx.entity("shop_category"):  # "für eine bäckerei"
        return None
    text = ctx.incoming.text  # "ja, einen gutschein kaufen bitte": the card's own offer
    if not (REFERRING_WORDS.search(text) or begins_with_yes(text)):
        return None
    return await get_shop(ctx.db, shop_id)


async def _start_donating(ctx: Context, shop: Shop | None, cents: int | None) -> list[Reply]:
    """Open the donation form for a named shop, with the amount said if it fits."""
    if shop is None:
        return [Reply(ctx.t("vouchers.donate.which_shop"))]
    if not shop.sells_vouchers:  # support is part of the voucher programme
        return [Reply(ctx.t("vouchers.no_vouchers", shop=shop.name))]
    notes: list[Reply] = []
    if cents is not None:
        try:
            _check_donation(ctx, cents)
        except Invalid as invalid:
            notes.append(Reply(ctx.t(invalid.key, **invalid.values)))
            cents = None
    with_entities(ctx, amount=cents)
    intro = Reply(ctx.t("vouchers.donate.intro", shop=shop.name))
    return [*notes, intro, *await ctx.start_form(DonateForm, shop_id=shop.id, shop=shop.name)]


@button("voucher.buy", private=True)
async def buy_button(ctx: Context, shop_id: int) -> list[Reply]:
    """The "buy a voucher" button of a shop card."""
    shop = await get_shop(ctx.db, shop_id)
    if shop is None:
        return [Reply(ctx.t("vouchers.shop_gone"))]
    return await _start_buying(ctx, shop, None)


# --- donating -----------------------------------------------------------------------------


async def _donation_amounts(ctx: Context) -> list[Choice]:
    return [_labelled(ctx, c) for c in ctx.config.vouchers.donation_amounts]


def _check_donation(ctx: Context, cents: int) -> None:
    settings = ctx.config.vouchers
    if not settings.donation_min_cents <= cents <= settings.donation_max_cents:
        raise Invalid(
            "vouchers.amount.range",
            min=money(settings.donation_min_cents, ctx.lang),
            max=money(settings.donation_max_cents, ctx.lang),
        )


def _parse_donation(ctx: Context, text: str) -> int:
    cents = parse_cents(text, ctx.lang)
    _check_donation(ctx, cents)
    return cents


class DonateForm(Form):
    """Support a shop without buying (#wirstehenhinterdir): amount, confirm."""

    name = "voucher.donate"
    slots: ClassVar[list[Slot]] = [
        Slot(
            "amount",
            "vouchers.donate.ask_amount",
            parse=_parse_donation,
            entity="amount",
            suggest=_donation_amounts,
        ),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The donation about to be given and how it is paid."""
        amount = money(values["amount"], ctx.lang)
        text = ctx.t("vouchers.donate.summary", shop=args["shop"], amount=amount)
        return f"{text}\n{_payment_note(ctx, vouchers.DONATION)}"

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Record the pledge; send the invoice or the reference to pay in the shop."""
        shop = await get_shop(ctx.db, args["shop_id"])
        if shop is None:
            return [Reply(ctx.t("vouchers.shop_gone"))]
        if not shop.sells_vouchers:  # it left the programme meanwhile: named, not "gone"
            return [Reply(ctx.t("vouchers.no_vouchers", shop=shop.name))]
        return await _reserve(ctx, shop, values["amount"], vouchers.DONATION)


@button("voucher.donate", private=True)
async def donate_button(ctx: Context, shop_id: int) -> list[Reply]:
    """The "support the shop" button of a shop card."""
    shop = await get_shop(ctx.db, shop_id)
    if shop is None:
        return [Reply(ctx.t("vouchers.shop_gone"))]
    if not shop.sells_vouchers:  # support is part of the voucher programme
        return [Reply(ctx.t("vouchers.no_vouchers", shop=shop.name))]
    return await _start_donating(ctx, shop, None)


# --- paying by Telegram invoice --------------------------------------------------------------


async def _invoiced(ctx: Context, paying: Payment, *, lock: bool) -> Voucher | None:
    _prefix, args = split_payload(paying.payload)
    if len(args) != 1 or not args[0].isdigit():
        return None
    return await vouchers.get_voucher(ctx.db, int(args[0]), lock=lock)


@payment(PAY_PREFIX, on="check")
async def check_invoice(ctx: Context, paying: Payment) -> list[Reply]:
    """Before the user pays: the reservation is still open and the amount is right."""
    voucher = await _invoiced(ctx, paying, lock=False)
    if (
        voucher is None
        or voucher.state != vouchers.RESERVED
        or voucher.payment != vouchers.INVOICE
        or voucher.face_cents != paying.amount_cents
        or paying.currency != "EUR"
        or voucher.reserved_until <= utcnow()
    ):
        return [Reply(ctx.t("vouchers.invoice.invalid"))]
    return []


@payment(PAY_PREFIX, on="paid")
async def invoice_paid(ctx: Context, paying: Payment) -> list[Reply]:
    """The money arrived: the voucher is active (once, also if Telegram redelivers)."""
    ctx.private = True
    voucher = await _invoiced(ctx, paying, lock=True)
    if voucher is None:
        logger.warning("payment for unknown voucher event=%s", ctx.incoming.event_id)
        return [Reply(ctx.t("payment.unknown"))]
    paid = await vouchers.mark_paid(
        ctx.db, voucher, ctx.config.city.tz, actor_id=ctx.user.id, charge_id=paying.charge_id
    )
    if not paid:
        logger.info("payment already recorded voucher=%s", voucher.id)
        return []
    logger.info("voucher paid id=%s by invoice", voucher.id)
    return await _activated(ctx, voucher)


async def _activated(ctx: Context, voucher: Voucher) -> list[Reply]:
    """The buyer's answer for a voucher that just became active (and its expiry reminder)."""
    shop = await get_shop(ctx.db, voucher.shop_id)
    name = shop.name if shop else "?"
    amount = money(voucher.face_cents, ctx.lang)
    if voucher.kind == vouchers.DONATION:
        return [Reply(ctx.t("vouchers.donate.thanks", shop=name, amount=amount))]
    await remind_expiry(ctx, voucher, name)
    text = ctx.t(
        "vouchers.buy.active",
        shop=name,
        amount=amount,
        code=vouchers.format_code(voucher.code),
        until=show_date(_last_day(voucher), ctx),
    )
    return [_with_qr(Reply(text), voucher)]


async def remind_expiry(ctx: Context, voucher: Voucher, shop: str) -> None:
    """A reminder to the buyer before the voucher expires."""
    if voucher.buyer_id is None or voucher.expires_at is None:
        return
    days = ctx.config.vouchers.expiry_reminder_days
    await remind(
        ctx.db,
        voucher.buyer_id,
        voucher.expires_at - timedelta(days=days),
        "vouchers.reminder.expiry",
        {
            "code": vouchers.format_code(voucher.code),
            "shop": shop,
            "until_at": _last_day(voucher).isoformat(),
        },
        valid_until=voucher.expires_at,
        ref=f"voucher:{voucher.id}",
    )


# --- my vouchers and balances ---------------------------------------------------------------


def _state_text(ctx: Context, voucher: Voucher, rest: int) -> str:
    if voucher.state == vouchers.RESERVED:
        return ctx.t("vouchers.state.reserved", until=show_date(voucher.reserved_until, ctx))
    if voucher.state == vouchers.ACTIVE and voucher.expires_at and voucher.expires_at <= utcnow():
        return ctx.t("vouchers.state.expired")
    if voucher.state == vouchers.ACTIVE and rest == 0:
        return ctx.t("vouchers.state.spent")
    if voucher.state == vouchers.ACTIVE:
        return ctx.t("vouchers.state.active", until=show_date(_last_day(voucher), ctx))
    return ctx.t(f"vouchers.state.{voucher.state}")


@command("vouchers", help_key="help.cmd.vouchers", private=True)
async def my_vouchers(ctx: Context, _args: str = "") -> list[Reply]:
    """My vouchers (shop, balance, state, expiry) and my support pledges, in one message."""
    mine = await vouchers.vouchers_of(ctx.db, ctx.user.id)
    pledges = await vouchers.pledges_of(ctx.db, ctx.user.id)
    if not mine and not pledges:
        return [Reply(ctx.t("vouchers.mine.none"))]
    sections = []
    if mine:
        sections.append(_voucher_lines(ctx, mine))
    if pledges:
        sections.append(_pledge_lines(ctx, pledges))
    return [Reply("\n\n".join("\n".join(lines) for lines in sections))]


def _voucher_lines(ctx: Context, mine: list[tuple[Voucher, Shop, int]]) -> list[str]:
    """The title and one line per voucher: shop, code, balance, state."""
    lines = [ctx.t("vouchers.mine.title", count=len(mine))]
    for number, (voucher, shop, rest) in enumerate(mine, 1):
        lines.append(
            ctx.t(
                "vouchers.mine.item",
                number=number,
                shop=shop.name,
                code=vouchers.format_code(voucher.code),
                balance=money(rest, ctx.lang),
                amount=money(voucher.face_cents, ctx.lang),
                state=_state_text(ctx, voucher, rest),
            )
        )
    return lines


def _pledge_lines(ctx: Context, pledges: list[tuple[Voucher, Shop]]) -> list[str]:
    """The title and one line per support pledge: shop, reference, amount, paid or until when."""
    lines = [ctx.t("vouchers.mine.pledges_title", count=len(pledges))]
    for number, (pledge, shop) in enumerate(pledges, 1):
        lines.append(
            ctx.t(
                "vouchers.mine.pledge",
                number=number,
                shop=shop.name,
                code=vouchers.format_code(pledge.code),
                amount=money(pledge.face_cents, ctx.lang),
                state=_pledge_state(ctx, pledge),
            )
        )
    return lines


def _pledge_state(ctx: Context, pledge: Voucher) -> str:
    """Whether a pledge is paid, still to be paid (by when), or lapsed."""
    if pledge.state == vouchers.ACTIVE:
        return ctx.t("vouchers.state.pledge_paid")
    if pledge.state == vouchers.RESERVED:
        return ctx.t("vouchers.state.pledge_open", until=show_date(pledge.reserved_until, ctx))
    return ctx.t(f"vouchers.state.{pledge.state}")


async def _pledge_balance(ctx: Context, pledge: Voucher) -> list[Reply]:
    """A donation reference: its details for the one who pledged it, else only what it is."""
    code = vouchers.format_code(pledge.code)
    shop = await get_shop(ctx.db, pledge.shop_id)
    if pledge.buyer_id != ctx.user.id or shop is None:
        return [Reply(ctx.t("vouchers.balance.donation", code=code))]
    text = ctx.t(
        "vouchers.balance.pledge",
        code=code,
        shop=shop.name,
        amount=money(pledge.face_cents, ctx.lang),
        state=_pledge_state(ctx, pledge),
    )
    return [Reply(text)]


async def _balance(ctx: Context, raw: str) -> list[Reply]:
    found = await lookup(ctx, raw)
    if not isinstance(found, Voucher):
        return found
    code = vouchers.format_code(found.code)
    if found.kind == vouchers.DONATION:
        return await _pledge_balance(ctx, found)
    shop = await get_shop(ctx.db, found.shop_id)
    rest = await vouchers.balance(ctx.db, found.id)
    text = ctx.t(
        "vouchers.balance.text",
        code=code,
        shop=shop.name if shop else "?",
        balance=money(rest, ctx.lang),
        amount=money(found.face_cents, ctx.lang),
        state=_state_text(ctx, found, rest),
    )
    return [Reply(text)]


@command("balance", help_key="help.cmd.balance", private=True)
async def balance_command(ctx: Context, args: str = "") -> list[Reply]:
    """/balance CODE: the balance and expiry of any code (never who bought it)."""
    if not args.strip():
        return [Reply(ctx.t("vouchers.balance.ask"))]
    return await _balance(ctx, code_argument(args))


@intent("voucher_balance", private=True)
async def voucher_balance(ctx: Context) -> list[Reply]:
    """ "wie viel ist noch auf K7QF-2M9X"; without a code: my vouchers – or, asked by a shop
    owner ("wie viele gutscheine habe ich verkauft"), their shop's sales (owner_asks)."""
    code = code_from(ctx, ctx.incoming.text)
    if code and await users.find_invite(ctx.db, code) is not None:
        return await account.claim(ctx, code)  # "CTQN-CCN6" alone: an invite, not a voucher
    if code:
        return await _balance(ctx, code)
    answered = await owner_asks(ctx)
    if answered is not None:
        return answered
    asked = await answer_voucher_question(ctx)
    if asked is not None:
        return asked
    if await vouchers.vouchers_of(ctx.db, ctx.user.id) or await vouchers.pledges_of(
        ctx.db, ctx.user.id
    ):
        return await my_vouchers(ctx)
    return [Reply(ctx.t("vouchers.balance.ask"))]


# --- questions about vouchers (not a purchase, not a balance) --------------------------------

# a question about returning, cancelling, giving away, where and how long a voucher is valid or
# how it is paid, by its words (checked in this order)
VOUCHER_QUESTIONS = {
    "return": re.compile(
        r"zur(?:ü|ue)ck\s?(?:geb|nehm|tausch|gib|bekomm)|umtausch|storn|erstatt"
        r"|geld\s+zur(?:ü|ue)ck|widerruf|refund|\breturn|\bcancel|money\s+back"
        r"|(?:give|take|get)\s+(?:it\s+|them\s+)?back",
        re.IGNORECASE,
    ),
    "gift": re.compile(
        r"verschenk|\bschenken|weiter\s?(?:geb|gib|leit|reich)|(?:ü|ue)bertrag"
        r"|\bgift(?:ing|ed)?\b|give\s+(?:\w+\s+){0,2}(?:away|to)\b|pass\s+(?:it\s+)?on"
        r"|\btransfer|\bforward",
        re.IGNORECASE,
    ),
    "shops": re.compile(
        r"\b(?:alle[nm]?|andere[nmr]?|mehrere[nm]?|jede[nmr]?|verschiedene[nm]?|all|other|any"
        r"|every|several|multiple|different|another)\s+(?:l(?:ä|ae)de[nn]|laden|gesch(?:ä|ae)fte?n?"
        r"|shops?|stores?)\b|(?:ü|ue)berall|everywhere|anywhere"
        r"|in\s+welche[nm]?\s+(?:l(?:ä|ae)den|gesch(?:ä|ae)ften)|where\s+can\s+i\s+(?:use|spend)"
        r"|wo\s+kann\s+ich\s+(?:\w+\s+){0,2}(?:einl(?:ö|oe)sen|verwenden|nutzen|ausgeben)",
        re.IGNORECASE,
    ),
    "payment": re.compile(
        r"\b(?:be)?zahl|\bonline\b|\bpay|paypal|kreditkarte|credit\s*card|(?:ü|ue)berweis"
        r"|\bcash\b",
        re.IGNORECASE,
    ),
    "validity": re.compile(
        r"g(?:ü|ue)ltig|\bgilt\b|verf(?:ä|ae)llt|verfall|\bl(?:ä|ae)uft\b.*\bab\b|ablauf"
        r"|abgelaufen|wie\s+lange|\bvalid|expir|how\s+long",
        re.IGNORECASE,
    ),
}
# a wish to buy: then the words above describe the purchase ("ein gutschein zum verschenken")
BUY_WORDS = re.compile(r"\b(?:kauf\w*|bestell\w*|buy\w*|order\w*|purchase\w*)\b", re.IGNORECASE)
# giving away a voucher one holds ("den gutschein verschenken"), or asked as a question
HELD_OR_ASKED = re.compile(
    r"\b(?:den|meinen|mein|diesen|the|my|this)\s+(?:gutschein|voucher)|\?"
    r"|^(?:kann|darf|geht|gilt|muss|wie|wo|can|may|is|does|do|how|where|must)\b",
    re.IGNORECASE,
)


def voucher_question(text: str) -> str | None:
    """Which question about vouchers a message asks by its words – "return" (give back,
    cancel, refund), "gift" (give away one held), "shops" (valid in other shops), "payment"
    (how it is paid), "validity" – or None (also for a purchase: "einen gutschein zum
    verschenken kaufen"). Gift and payment count only when asked or about a voucher held
    ("can i pay for the voucher online?", not "gutschein für café rosa, ich zahle bar")."""
    if BUY_WORDS.search(text):
        return None
    for topic, words in VOUCHER_QUESTIONS.items():
        asked = topic not in ("gift", "payment") or HELD_OR_ASKED.search(text.strip())
        if words.search(text) and asked:
            return topic
    return None


async def answer_voucher_question(ctx: Context) -> list[Reply] | None:
    """The answer to a question about returning, giving away, the shops, paying or the validity
    of vouchers (the rules this service follows), or None if the message asks none (or names an
    amount)."""
    topic = voucher_question(ctx.incoming.text)
    if topic is None or ctx.entity("amount") is not None:
        return None
    days = ctx.config.vouchers.reservation_days
    bought_now = vouchers.expiry_for(utcnow(), ctx.config.city.tz) - timedelta(seconds=1)
    until = show_date(bought_now, ctx)
    text = ctx.t(_question_key(ctx, topic), days=days, until=until)
    return [Reply(text)]


def _question_key(ctx: Context, topic: str) -> str:
    """The answer's message key: how paying works depends on whether this chat can invoice."""
    if topic == "payment":
        return "vouchers.question.payment." + ("invoice" if can_invoice(ctx) else "in_shop")
    return f"vouchers.question.{topic}"


# --- time passing ---------------------------------------------------------------------------


async def housekeeping(db: AsyncSession) -> tuple[int, int]:
    """Lapse unpaid reservations and expire old vouchers; returns (lapsed, expired)."""
    lapsed = await vouchers.lapse_due(db)
    expired = await vouchers.expire_due(db)
    for voucher in expired:
        await cancel_reminders(db, f"voucher:{voucher.id}")
    if lapsed or expired:
        logger.info("vouchers lapsed=%d expired=%d", len(lapsed), len(expired))
    return len(lapsed), len(expired)


@recurring("voucher_housekeeping", lambda c: IntervalTrigger(minutes=15, timezone=c.city.tz))
async def voucher_housekeeping() -> tuple[int, int]:
    """Every 15 minutes: lapse unpaid reservations, expire vouchers past their end."""
    app = runtime()
    async with app.sessions() as db, db.begin():
        return await housekeeping(db)
