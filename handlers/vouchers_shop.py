"""Vouchers at the shop: redeem at the till (code, words, QR photo), confirm payments, sales."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import zxingcpp
from PIL import Image, UnidentifiedImageError

from bot.context import Context
from bot.forms import Form, Invalid, Slot, active_form, bare_words, cancel_form
from bot.i18n import Translate
from bot.messages import Attachment, Reply
from bot.notify import cancel_reminders, notify
from bot.registry import Route, command, intent, registry
from handlers.vouchers import (
    code_argument,
    code_from,
    guessing_blocked,
    lookup,
    money,
    parse_cents,
    remind_expiry,
    with_entities,
    wrong_code,
)
from storage import vouchers
from storage.base import utcnow
from storage.shops import Shop, get_shop, shop_by_key
from storage.vouchers import CodeError, Refused, Voucher

logger = logging.getLogger(__name__)
WHOLE_BALANCE = re.compile(  # an amount answer that takes all that is left on the voucher
    r"(?:(?:redeem|take)\s+)?(?:(?:den|der|das|the)\s+)?"
    r"(?:rest|restbetrag|restguthaben|ganze guthaben|alles|komplett|all|all of it|everything|"
    r"whole balance|whole amount|full amount|full balance|remaining balance)"
    r"(?:\s+(?:bitte|please|einlösen|abbuchen))?",
    re.IGNORECASE,
)


def decode_qr(image: bytes) -> str | None:
    """The text of the first QR code in an image, or None."""
    try:
        picture = Image.open(io.BytesIO(image))
        picture.load()
    except (UnidentifiedImageError, OSError):
        return None
    found = zxingcpp.read_barcodes(picture.convert("L"))
    return found[0].text if found else None


def _owner_check(ctx: Context) -> list[Reply] | None:
    if not ctx.orgs("shop_owner"):
        return ctx.refuse("shop_owner")
    return None


def _refused(ctx: Context, refusal: Refused) -> list[Reply]:
    """The answer to a refused redemption (its values are money)."""
    values = {k: money(v, ctx.lang) for k, v in refusal.values.items()}
    return [Reply(ctx.t(refusal.reason, **values))]


def _open_code(ctx: Context) -> str | None:
    """The code of a redemption waiting for its amount, if one is open."""
    if active_form(ctx) is not RedeemForm:
        return None
    return str((ctx.state.get("form") or {}).get("args", {}).get("code", "")) or None


def _drop_open_redemption(ctx: Context, raw: str) -> list[Reply]:
    """A new redemption replaces one still waiting for its amount; said if that was another
    code (nothing was taken from it)."""
    old = _open_code(ctx)
    if old is None:
        return []
    cancel_form(ctx)
    if _reads_as(raw) == old:
        return []
    return [Reply(ctx.t("vouchers.redeem.dropped", code=vouchers.format_code(old)))]


async def _redeem(
    ctx: Context, raw: str, cents: int | None, amount_error: str = "", *, whole: bool = False
) -> list[Reply]:
    """Redeem cents (whole: all that is left) from the code; without an amount (or with a bad
    one, amount_error) ask for it, naming the code and its balance. Replaces a redemption
    still waiting for its amount."""
    refused = _owner_check(ctx)
    if refused:
        return refused
    notes = _drop_open_redemption(ctx, raw)
    try:
        code = vouchers.read_code(raw)
    except CodeError as error:
        return [*notes, Reply(ctx.t(error.reason))]
    if await guessing_blocked(ctx):
        return [*notes, Reply(ctx.t("vouchers.code.try_later"))]
    if whole:
        try:
            cents = await _whole_balance(ctx, code)
        except Invalid as invalid:  # spent, or no such voucher (said by the question's check)
            amount_error = ctx.t(invalid.key, **invalid.values)
    if cents is None:
        return [*notes, *await _ask_amount(ctx, code, amount_error)]
    try:
        done = await vouchers.redeem(
            ctx.db, code, cents, ctx.orgs("shop_owner"), actor_id=ctx.user.id
        )
    except Refused as refusal:
        if refusal.reason == "vouchers.unknown_code":
            await wrong_code(ctx)
        return [*notes, *_refused(ctx, refusal)]
    if done.rest == 0:
        await cancel_reminders(ctx.db, f"voucher:{done.voucher.id}")
    logger.info("voucher redeemed id=%s", done.voucher.id)
    text = ctx.t(
        "vouchers.redeem.done",
        taken=money(done.taken, ctx.lang),
        code=vouchers.format_code(code),
        rest=money(done.rest, ctx.lang),
    )
    return [*notes, Reply(text)]


async def _ask_amount(ctx: Context, code: str, amount_error: str = "") -> list[Reply]:
    """The amount question of a code this shop may redeem now (else why not: a bad amount
    typed first, as the ledger checks it before the voucher – "/redeem K7QF-2M9X -5")."""
    voucher = await vouchers.by_code(ctx.db, code)
    if voucher is None:
        await wrong_code(ctx)
        return [Reply(ctx.t("vouchers.unknown_code"))]
    try:
        available = await vouchers.redeemable(ctx.db, voucher, ctx.orgs("shop_owner"))
        if available <= 0:
            raise Refused("vouchers.redeem.too_much", balance=0)
    except Refused as refusal:
        return [Reply(amount_error)] if amount_error else _refused(ctx, refusal)
    with_entities(ctx, amount=None)
    asked = await ctx.start_form(RedeemForm, code=code, balance=available)
    if amount_error:
        asked[-1].text = f"{amount_error}\n{asked[-1].text}"
    return asked


def _reads_as(text: str | None) -> str | None:
    """The stored code a text reads as, or None."""
    try:
        return vouchers.read_code(text) if text else None
    except CodeError:
        return None


async def _shows_other_voucher(ctx: Context, text: str, code: str) -> bool:
    """Whether the amount answer shows another voucher (a photo that is not this code's QR, or
    another code typed): then nothing is taken from the voucher asked about."""
    image = ctx.incoming.image
    if image is not None:
        return _reads_as(await asyncio.to_thread(decode_qr, image.content)) != code
    typed = vouchers.code_in_text(text)
    return typed is not None and _reads_as(typed) not in (None, code)


def means_whole_balance(text: str) -> bool:
    """Whether an amount answer asks for all that is left ("alles", "den rest", "the rest")."""
    return WHOLE_BALANCE.fullmatch(bare_words(text)) is not None


async def _whole_balance(ctx: Context, code: str) -> int:
    """All that is left on the voucher now (its balance may have changed since it was asked);
    Invalid if nothing is."""
    voucher = await vouchers.by_code(ctx.db, code)
    rest = await vouchers.balance(ctx.db, voucher.id) if voucher is not None else 0
    if rest <= 0:
        raise Invalid("vouchers.redeem.too_much", balance=money(0, ctx.lang))
    return rest


async def _parse_redeem_amount(ctx: Context, text: str) -> int:
    """The typed amount to take ("alles"/"the rest": the whole balance); a bad one raises only
    why (the question that follows names the code and its balance, see
    RedeemForm.question_text)."""
    args = (ctx.state.get("form") or {}).get("args", {})
    code = str(args.get("code", ""))
    if await _shows_other_voucher(ctx, text, code):
        raise Invalid("vouchers.redeem.not_this_code", code=vouchers.format_code(code))
    if means_whole_balance(text):
        return await _whole_balance(ctx, code)
    cents = parse_cents(text, ctx.lang)
    await _check_within_balance(ctx, args, cents)
    return cents


async def _check_within_balance(ctx: Context, args: dict[str, Any], cents: int) -> None:
    """Invalid if cents is more than the voucher has left now – said with its balance now,
    which the question asked again then names (another till may have taken some meanwhile).
    A voucher with nothing left, or no longer to be redeemed here, is refused at booking."""
    voucher = await vouchers.by_code(ctx.db, str(args.get("code", "")))
    if voucher is None:
        return
    try:
        available = await vouchers.redeemable(ctx.db, voucher, ctx.orgs("shop_owner"))
    except Refused:
        return
    if 0 < available < cents:
        args["balance"] = available
        raise Invalid("vouchers.redeem.more_than_balance", balance=money(available, ctx.lang))


class RedeemForm(Form):
    """The amount to take from a voucher whose code was given without one."""

    name = "voucher.redeem"
    confirm = False
    slots: ClassVar[list[Slot]] = [
        Slot("amount", "vouchers.redeem.ask_amount", parse=_parse_redeem_amount),
    ]

    @classmethod
    def question_text(
        cls, ctx: Context, slot: Slot, values: dict[str, Any], args: dict[str, Any]
    ) -> str:
        """The amount question names the code and its balance, also when asked again."""
        return ctx.t(
            "vouchers.redeem.ask_amount_of",
            code=vouchers.format_code(str(args["code"])),
            balance=money(int(args["balance"]), ctx.lang),
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Redeem the amount."""
        ctx.private = True
        return await _redeem(ctx, args["code"], values["amount"])


def _split_redeem_args(args: str) -> tuple[str, str]:
    """(code, amount) of '/redeem CODE AMOUNT' – or of '/redeem AMOUNT CODE', the amount first
    (its first word without a letter, the code the last word or two: "1 euro K7QF-2M9X",
    "0,50 € K7QF 2M9X")."""
    parts = args.split()
    if len(parts) >= 2 and not re.search("[A-Za-z]", parts[0]):
        size = _code_words_at_end(parts[1:])
        if size:
            return " ".join(parts[-size:]), " ".join(parts[:-size])
    if len(parts) >= 2 and len(parts[0]) == len(parts[1]) == 4 and re.search("[A-Za-z]", parts[1]):
        return parts[0] + parts[1], " ".join(parts[2:])  # "K7QF 2M9X 12,50"
    return (parts[0] if parts else ""), " ".join(parts[1:])


def _code_words_at_end(words: list[str]) -> int:
    """How many of the last words are shaped like a code ("K7QF-2M9X": 1, "K7QF 2M9X": 2), or 0."""
    halves = words[-2:]
    if len(halves) == 2 and all(len(w) == 4 for w in halves) and _code_shaped("".join(halves)):
        return 2
    return 1 if words and _code_shaped(words[-1]) else 0


def _code_shaped(word: str) -> bool:
    """Whether a word has a code's shape: eight letters and digits, some letter, a dash allowed."""
    letters = word.replace("-", "")
    return len(letters) == vouchers.CODE_LENGTH and letters.isalnum() and not letters.isdigit()


def _typed_amount(ctx: Context, text: str) -> tuple[int | None, str]:
    """(cents, '') of a typed amount, or (None, why not) – the reason is said with the question."""
    if not text:
        return None, ""
    try:
        return parse_cents(text, ctx.lang), ""
    except Invalid as invalid:
        return None, ctx.t(invalid.key, **invalid.values)


@command("redeem", help_key="help.cmd.redeem", role="shop_owner", private=True)
async def redeem_command(ctx: Context, args: str = "") -> list[Reply]:
    """/redeem CODE AMOUNT at the till."""
    raw, amount = _split_redeem_args(args.strip())
    if not raw:
        return [Reply(ctx.t("vouchers.redeem.usage"))]
    if means_whole_balance(amount):  # "/redeem K7QF-2M9X alles"
        return await _redeem(ctx, raw, None, whole=True)
    cents, why_not = _typed_amount(ctx, amount)
    return await _redeem(ctx, raw, cents, why_not)


@intent("redeem_voucher", role="shop_owner", private=True)
async def redeem_voucher(ctx: Context) -> list[Reply]:
    """ "gutschein K7QF-2M9X über 12,50 einlösen"."""
    code = code_from(ctx, ctx.incoming.text)
    if not code:
        return [Reply(ctx.t("vouchers.redeem.usage"))]
    return await _redeem(ctx, code, ctx.entity("amount"))


@intent("photo", private=True)
async def photo(ctx: Context) -> list[Reply]:
    """A photo of a voucher's QR code at the till (caption: the amount)."""
    image = ctx.incoming.image
    owner = bool(ctx.orgs("shop_owner"))
    text = await asyncio.to_thread(decode_qr, image.content) if owner and image else None
    if text is None:
        caption_route = await _caption_route(ctx)
        if caption_route is not None:  # no voucher: the caption says what the photo is for
            return await caption_route(ctx, [])
        key = "vouchers.photo.unreadable" if owner else "vouchers.photo.unsupported"
        return [Reply(ctx.t(key))]
    cents, why_not = _typed_amount(ctx, ctx.incoming.text.strip())
    return await _redeem(ctx, text, cents, why_not)


async def _caption_route(ctx: Context) -> Route | None:
    """The route of a photo's caption when it asks for something (e.g. an update to the shop's
    followers with a photo); None for no caption, an amount or anything not understood."""
    caption = ctx.incoming.text.strip()
    if not caption:
        return None
    parse = await ctx.understand()
    name = parse["intent"]["name"]
    if name in ("photo", "nlu_fallback", "redeem_voucher"):
        return None
    return registry.intents.get(name)


@command("confirmpay", help_key="help.cmd.confirmpay", role="shop_owner", private=True)
async def confirm_payment(ctx: Context, args: str = "") -> list[Reply]:
    """/confirmpay CODE: the buyer paid a reserved voucher (or donation) in the shop."""
    refused = _owner_check(ctx)
    if refused:
        return refused
    if not args.strip():
        return [Reply(ctx.t("vouchers.confirm.usage"))]
    found = await lookup(ctx, code_argument(args), lock=True)
    if not isinstance(found, Voucher):
        return found
    shop = await get_shop(ctx.db, found.shop_id)
    code = vouchers.format_code(found.code)
    if shop is None or shop.key not in ctx.orgs("shop_owner"):
        return [Reply(ctx.t("vouchers.redeem.other_shop"))]
    if found.state in (vouchers.ACTIVE, vouchers.EXPIRED):
        return [Reply(ctx.t("vouchers.confirm.already", code=code))]
    await vouchers.mark_paid(ctx.db, found, ctx.config.city.tz, actor_id=ctx.user.id)
    logger.info("voucher paid id=%s in shop", found.id)
    if found.buyer_id is not None:
        await notify(
            ctx.db,
            found.buyer_id,
            lambda t, v=found, s=shop.name: _compose_confirmed(t, v, s),
            dedup_key=f"voucher-paid:{found.id}",
        )
        if found.kind == vouchers.VOUCHER:
            await remind_expiry(ctx, found, shop.name)
    amount = money(found.face_cents, ctx.lang)
    key = (
        "vouchers.confirm.donation" if found.kind == vouchers.DONATION else "vouchers.confirm.done"
    )
    return [Reply(ctx.t(key, code=code, amount=amount))]


def _compose_confirmed(t: Translate, voucher: Voucher, shop: str) -> list[Reply]:
    key = (
        "vouchers.notify.donation" if voucher.kind == vouchers.DONATION else "vouchers.notify.paid"
    )
    return [Reply(t(key, code=vouchers.format_code(voucher.code), shop=shop))]


def _month_start(ctx: Context) -> datetime:
    local = utcnow().astimezone(ctx.config.city.tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@command("sales", help_key="help.cmd.sales", role="shop_owner", private=True)
async def show_sales(ctx: Context, args: str = "") -> list[Reply]:
    """/sales: sold, redeemed, outstanding, donations (this month, total); /sales csv: ledger."""
    refused = _owner_check(ctx)
    if refused:
        return refused
    replies = []
    for key in ctx.orgs("shop_owner"):
        shop = await shop_by_key(ctx.db, key)
        if shop is None:
            continue
        if args.strip().lower() == "csv":
            replies.append(await _ledger_csv(ctx, shop))
            continue
        month = await vouchers.sales(ctx.db, shop.id, _month_start(ctx))
        total = await vouchers.sales(ctx.db, shop.id)
        m = {k: money(v, ctx.lang) for k, v in vars(month).items() if k != "count"}
        a = {k: money(v, ctx.lang) for k, v in vars(total).items() if k != "count"}
        replies.append(
            Reply(
                ctx.t(
                    "vouchers.sales.text",
                    shop=shop.name,
                    m_count=month.count,
                    m_sold=m["sold"],
                    m_redeemed=m["redeemed"],
                    m_donations=m["donations"],
                    count=total.count,
                    sold=a["sold"],
                    redeemed=a["redeemed"],
                    donations=a["donations"],
                    outstanding=a["outstanding"],
                )
            )
        )
    return replies or [Reply(ctx.t("vouchers.sales.no_shop"))]


async def _ledger_csv(ctx: Context, shop: Shop) -> Reply:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "entry", "code", "kind", "amount_eur", "paid_eur"])
    for entry, voucher in await vouchers.ledger_of(ctx.db, shop.id):
        writer.writerow(
            [
                entry.created_at.astimezone(ctx.config.city.tz).isoformat(timespec="seconds"),
                entry.kind,
                vouchers.format_code(voucher.code),
                voucher.kind,
                f"{Decimal(entry.amount_cents) / 100:.2f}",
                f"{Decimal(entry.paid_cents) / 100:.2f}",
            ]
        )
    data = buffer.getvalue().encode("utf-8")
    name = f"vouchers-{shop.key}.csv"
    return Reply(
        ctx.t("vouchers.sales.csv", shop=shop.name), file=Attachment(name, data, "text/csv")
    )
