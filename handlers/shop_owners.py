"""Shop owners: edit the shop card (/myshop) and send updates to followers (/update).

```mermaid
stateDiagram-v2
    [*] --> myshop: /myshop, "mein laden" (shop_owner of the shop)
    myshop --> myshop: edit description, hours, notice, voucher offer; switch flags
    [*] --> editing: /myshop hours, "öffnungszeiten ändern" (that part's form)
    [*] --> drafting: /update or "an alle: ..." (shop_owner, under the daily limit)
    [*] --> photo: news said plainly ("wir haben samstags bis 15 uhr offen"), its text shown
    drafting --> photo: text (a photo with a caption fills both)
    photo --> preview: a photo or "ohne"
    preview --> sent: confirm (broadcast through the outbox, an unfollow button under it)
    preview --> [*]: cancel
    sent --> [*]: /update shows sent / failed / pending
```
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from PIL import Image, ImageOps

import handlers.shops as cards
from bot import forms
from bot.context import Context
from bot.forms import Choice, Form, Invalid, Slot, free_text
from bot.i18n import Translate
from bot.messages import Attachment, Button, Reply
from bot.notify import broadcast
from bot.registry import button, command, intent, payload
from handlers.shops import euros, service_line, shop_list
from storage import shop_updates, shops
from storage.shop_updates import MAX_PHOTO_BYTES, MAX_UPDATE_TEXT, ShopUpdate
from storage.shops import WEEKDAYS, Shop

STATUS_UPDATES = 3
NOTICE_MAX = 300
DESCRIPTION_MAX = 1000
VOUCHER_LIMIT_CENTS = (100, 100_000)  # a voucher offer lies between 1 € and 1,000 €
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
PHOTO_EDGE = 1280  # pixels: an update's photo is sent at most this large
SKIP_WORDS = {"ohne", "nein", "kein", "keins", "no", "none", "without", "skip", "-", "weiter"}
CLEAR_WORDS = {"-", "keiner", "kein", "keine", "löschen", "loeschen", "none", "clear", "delete"}
CLOSED_WORDS = {"geschlossen", "zu", "closed", "-", "ruhetag", "shut"}
ANNOUNCE = re.compile(
    r"^\s*(?:an alle(?: follower(?:innen)?)?|an unsere (?:kunden|follower)|"
    r"to (?:all|everyone)|announce(?: to (?:my|our|all) followers)?(?: that)?)\s*[:,-]?\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
ASKS_TO_WRITE = re.compile(  # words of a wish to write an update, not of the update itself
    r"\b(?:an alle|follow\w*|abonnent\w*|subscribers|everyone|rundnachricht|rundmail|"
    r"nachricht|mitteil\w*|informier\w*|benachrichtig\w*|bescheid|updates?|neuigkeit\w*|"
    r"ankündigung|broadcast|posten|post|veröffentlich\w*|schick\w*|send\w*|verschick\w*|"
    r"schreiben|schreib|announce\w*|tell|notify|inform|message|publish|write)\b",
    re.IGNORECASE,
)
HEAD_LENGTH = 40  # "info an alle: TEXT": the words before the colon are this short at most
SUFFIX = r"(?:am|pm|a\.m\.|p\.m\.|uhr|h)"
TIME = rf"(\d{{1,2}})(?:[:.](\d{{2}}))?\s*({SUFFIX})?"
TO = r"(?:-|–|—|bis\b|to\b|until\b|till\b)"
HOURS_PATTERN = re.compile(  # one span: "8-18", "08:30 bis 13 uhr", "9 am to 3 pm", "9am-3pm"
    rf"^(?:von|from)?\s*{TIME}\s*{TO}\s*{TIME}$", re.IGNORECASE
)
# between the spans of a day with a break: "8-12, 14-18", "8-12 und 14-18", "8-12 14-18"
SPAN_SEPARATOR = re.compile(
    r"\s*(?:,|;|/|&|\+|\bund\b|\band\b)\s*"  # a word or sign between them, or only a space:
    rf"|(?:(?<=\d)|(?<=[ap]m)|(?<=\.m\.)|(?<=uhr)|(?<=\dh))\s+"
    rf"(?=(?:von\s+|from\s+)?\d{{1,2}}(?:[:.]\d{{2}})?\s*{SUFFIX}?\s*{TO})",
    re.IGNORECASE,
)
MAX_SPANS = 3  # a day's opening hours: at most this many spans (e.g. morning and afternoon)


# --- shop owners: the card -----------------------------------------------------------------


async def owned_shops(ctx: Context) -> list[Shop]:
    """The shops the user may manage: their shop_owner orgs (admins: every shop)."""
    if any(g.role == "admin" for g in ctx.user.roles):
        return await shops.all_shops(ctx.db)
    found = [await shops.shop_by_key(ctx.db, key) for key in ctx.orgs("shop_owner")]
    return [s for s in found if s is not None]


async def owned_shop(ctx: Context, shop_id: int) -> Shop | None:
    """The shop if it exists and the user may manage it."""
    return next((s for s in await owned_shops(ctx) if s.id == shop_id), None)


def _hours_text(hours: str | None) -> str:
    """A day's stored hours for the owner's view: '08:00-12:00, 14:00-18:00'."""
    return ", ".join((hours or "").split(","))


def owner_view(ctx: Context, shop: Shop) -> Reply:
    """The owner's view of the card: every setting and a button per edit."""
    opening = shop.opening_hours or {}
    hours = "\n".join(
        f"  {ctx.t(f'shops.day.{day}')}: {_hours_text(opening.get(day)) or ctx.t('shops.closed')}"
        for day in WEEKDAYS
    ) + "\n  " + ctx.t("shops.owner.holidays_note")
    amounts = ", ".join(euros(c, ctx.lang) for c in shop.voucher_amounts) or "–"
    text = ctx.t(
        "shops.owner.view",
        name=shop.name,
        description=shop.description or "–",
        hours=hours,
        services=service_line(ctx, shop),
        notice=shop.notice or "–",
        vouchers=ctx.t("shops.yes") if shop.sells_vouchers else ctx.t("shops.no"),
        amounts=amounts,
        min=euros(shop.voucher_min_cents, ctx.lang),
        max=euros(shop.voucher_max_cents, ctx.lang),
    )

    def flag(name: str, code: str, on: bool) -> Button:
        label = ctx.t(f"shops.button.{name}_{'off' if on else 'on'}")
        return Button(label, payload("shop.set", shop.id, code, 0 if on else 1))

    buttons = [
        Button(ctx.t("shops.button.edit_description"), payload("shop.edit", shop.id, "desc")),
        Button(ctx.t("shops.button.edit_hours"), payload("shop.edit", shop.id, "hours")),
        Button(ctx.t("shops.button.edit_notice"), payload("shop.edit", shop.id, "notice")),
        flag("delivery", "d", shop.delivers),
        flag("pickup", "p", shop.pickup),
        flag("vouchers", "v", shop.sells_vouchers),
        Button(ctx.t("shops.button.edit_vouchers"), payload("shop.edit", shop.id, "offer")),
        Button(ctx.t("shops.button.send_update"), payload("shop.update", shop.id)),
    ]
    return Reply(text, buttons)


@command("myshop", help_key="help.cmd.myshop", role="shop_owner")
async def my_shop(ctx: Context, args: str = "") -> list[Reply]:
    """The owner's shop card with edit buttons (a choice first when they own several);
    '/myshop hours' (or 'öffnungszeiten', 'description', 'notice', …) starts that edit."""
    owned = await owned_shops(ctx)
    if not owned:
        return [Reply(ctx.t("shops.owner.no_shop"))]
    if len(owned) > 1:
        return [shop_list(ctx, owned, ctx.t("shops.owner.pick"), "shop.manage")]
    part = args.strip().lower()
    part = part if part in EDIT_FORMS else cards.owner_part(part)
    if part is None:
        return [owner_view(ctx, owned[0])]
    return await begin_edit(ctx, owned[0], part)


@button("shop.manage", role="shop_owner")
async def manage(ctx: Context, shop_id: int) -> list[Reply]:
    """The owner's view of one of their shops."""
    shop = await owned_shop(ctx, shop_id)
    return ctx.refuse("shop_owner") if shop is None else [owner_view(ctx, shop)]


FLAGS = {"d": "delivers", "p": "pickup", "v": "sells_vouchers"}


@button("shop.set", role="shop_owner")
async def set_flag(ctx: Context, shop_id: int, code: str, value: int) -> list[Reply]:
    """Switch delivery, pickup or voucher sales to the value the button was made for."""
    shop = await owned_shop(ctx, shop_id)
    if shop is None:
        return ctx.refuse("shop_owner")
    if code not in FLAGS or value not in (0, 1):
        return [Reply(ctx.t("button.expired"))]
    attribute = FLAGS[code]
    if getattr(shop, attribute) == bool(value):
        return [Reply(ctx.t("shops.owner.unchanged")), owner_view(ctx, shop)]
    setattr(shop, attribute, bool(value))
    await ctx.db.flush()
    return [Reply(ctx.t("shops.owner.saved")), owner_view(ctx, shop)]


async def _edit_card(
    ctx: Context, args: dict[str, Any], change: Callable[[Shop], None]
) -> list[Reply]:
    """Apply a form's change to the owner's shop card and show the card (refused for a shop
    that is not theirs, also when it stopped being theirs while the form was open)."""
    shop = await owned_shop(ctx, int(args["shop_id"]))
    if shop is None:
        return ctx.refuse("shop_owner")
    change(shop)
    await ctx.db.flush()
    return [Reply(ctx.t("shops.owner.saved")), owner_view(ctx, shop)]


class DescriptionForm(Form):
    """A new description of the shop."""

    name = "shop.description"
    confirm = False
    slots: ClassVar[list[Slot]] = [
        Slot("text", "shops.owner.ask_description", parse=free_text(DESCRIPTION_MAX))
    ]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store the description."""

        def change(shop: Shop) -> None:
            shop.description = values["text"]

        return await _edit_card(ctx, args, change)


def _notice(_ctx: Context, text: str) -> str:
    text = text.strip()
    if text.lower() in CLEAR_WORDS:
        return ""
    if len(text) > NOTICE_MAX:
        raise Invalid("form.too_long", max=NOTICE_MAX)
    if len(text) < 2:
        raise Invalid("form.too_short")
    return text


class NoticeForm(Form):
    """A temporary notice on the card ('closed until ...'), or none."""

    name = "shop.notice"
    confirm = False
    slots: ClassVar[list[Slot]] = [Slot("text", "shops.owner.ask_notice", parse=_notice)]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store or clear the notice."""

        def change(shop: Shop) -> None:
            shop.notice = values["text"] or None

        return await _edit_card(ctx, args, change)


async def day_choices(_ctx: Context) -> list[Choice]:
    """The weekdays, Monday to Friday at once, and every day."""
    days = [Choice(day, f"shops.day.{day}") for day in WEEKDAYS]
    return [*days, Choice("mofr", "shops.day.mofr"), Choice("all", "shops.day.all")]


def _clock(hour: int, minute: int, suffix: str) -> tuple[int, int]:
    """A time of day as (hour, minute) on the 24-hour clock ('3', 'pm' -> 15:00)."""
    if suffix.startswith("p") and hour < 12:
        return hour + 12, minute
    if suffix.startswith("a") and hour == 12:
        return 0, minute
    return hour, minute


def parse_span(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """One span of opening hours ('8-12', '9 am to 3 pm') as (start, end); Invalid if unclear."""
    match = HOURS_PATTERN.match(text.strip())
    if match is None:
        raise Invalid("shops.owner.bad_hours")
    h1, m1, h2, m2 = (int(match[i] or 0) for i in (1, 2, 4, 5))
    s1, s2 = ((match[i] or "").lower() for i in (3, 6))
    twelve = s1[:1] in ("a", "p") or s2[:1] in ("a", "p")
    if twelve and any(h > 12 or (h == 0 and s[:1] in ("a", "p")) for h, s in ((h1, s1), (h2, s2))):
        raise Invalid("shops.owner.bad_hours")
    start, end = _clock(h1, m1, s1), _clock(h2, m2, s2)
    if s2.startswith("p") and not s1 and h1 < 12 and (h1 + 12, m1) < end:
        start = (h1 + 12, m1)  # "1-5 pm": 13:00-17:00 (but "9-3 pm": 09:00-15:00)
    if s1[:1] in ("a", "p") and not s2 and end <= start and h2 < 12:
        end = (h2 + 12, m2)  # "9 am - 5": until 17:00
    if twelve and end == (0, 0):
        end = (24, 0)  # "until 12 am": midnight
    (h1, m1), (h2, m2) = start, end
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2) or start >= end:
        raise Invalid("shops.owner.bad_hours")
    return start, end


def parse_hours(_ctx: Context, text: str) -> str:
    """'8-18', '08:30 - 18:00', '9 bis 13 uhr', '9 am to 3 pm' -> 'HH:MM-HH:MM'; with a break
    ('8-12, 14-18') the spans joined by commas; 'geschlossen' -> 'closed'."""
    text = text.strip().lower()
    if text in CLOSED_WORDS:
        return "closed"
    parts = [p for p in SPAN_SEPARATOR.split(text) if p]
    if len(parts) > MAX_SPANS:
        raise Invalid("shops.owner.too_many_spans", max=MAX_SPANS)
    spans = [parse_span(part) for part in parts] if parts else [parse_span(text)]
    for (_start, end), (start, _end) in itertools.pairwise(spans):
        if start <= end:
            raise Invalid("shops.owner.spans_order")
    return ",".join(f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}" for (h1, m1), (h2, m2) in spans)


class HoursForm(Form):
    """Opening hours of one weekday (or Monday to Friday, or every day)."""

    name = "shop.hours"
    confirm = False
    slots: ClassVar[list[Slot]] = [
        Slot("day", "shops.owner.ask_day", choices=day_choices),
        Slot("hours", "shops.owner.ask_hours", parse=parse_hours),
    ]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store the hours of the chosen days."""
        day = values["day"]
        days = WEEKDAYS[:5] if day == "mofr" else WEEKDAYS if day == "all" else (day,)

        def change(shop: Shop) -> None:
            hours = dict(shop.opening_hours or {})
            for each in days:
                hours[each] = None if values["hours"] == "closed" else values["hours"]
            shop.opening_hours = hours  # a new dict, so the JSON column is written

        return await _edit_card(ctx, args, change)


AMOUNT = re.compile(  # whole euros (thousands may be grouped: "1.000"), cents after , or .
    r"^(\d{1,3}(?:[.,]\d{3})+|\d+)(?:[.,](\d{1,2}))?\s*(?:€|eur|euro)?$", re.IGNORECASE
)


def parse_euros(text: str) -> int:
    """'12,50', '12.5 €', '25' -> cents; Invalid for anything else or outside the limits."""
    match = AMOUNT.match(text.strip())
    if match is None:
        raise Invalid("shops.owner.bad_amount", amount=text.strip())
    cents = int(re.sub(r"\D", "", match[1])) * 100 + int((match[2] or "0").ljust(2, "0"))
    low, high = VOUCHER_LIMIT_CENTS
    if not low <= cents <= high:
        raise Invalid("shops.owner.amount_range", low=low // 100, high=high // 100)
    return cents


def parse_limits(_ctx: Context, text: str) -> list[int]:
    """'5-250' -> [500, 25000] (smallest and largest custom amount)."""
    parts = [p for p in re.split(r"\s*(?:-|–|bis|to)\s*", text.strip(), maxsplit=1) if p]
    if len(parts) != 2:
        raise Invalid("shops.owner.bad_limits")
    low, high = parse_euros(parts[0]), parse_euros(parts[1])
    if low >= high:
        raise Invalid("shops.owner.bad_limits")
    return [low, high]


def parse_amounts(ctx: Context, text: str) -> list[int]:
    """'10 25 50' or '10; 25; 12,50' -> sorted cents, each within the limits just given."""
    tokens = [t for t in re.split(r"[\s;/]+|,\s+", text.strip()) if t]
    if len(tokens) == 1 and tokens[0].count(",") > 1:
        tokens = tokens[0].split(",")
    if not 1 <= len(tokens) <= 6:
        raise Invalid("shops.owner.bad_amounts")
    amounts = sorted({parse_euros(t) for t in tokens})
    form = ctx.state.get("form") or {}
    low, high = (form.get("values") or {}).get("limits") or VOUCHER_LIMIT_CENTS
    outside = [a for a in amounts if not low <= a <= high]
    if outside:
        raise Invalid(
            "shops.owner.amount_outside",
            amount=euros(outside[0], ctx.lang),
            min=euros(low, ctx.lang),
            max=euros(high, ctx.lang),
        )
    return amounts


class VoucherOfferForm(Form):
    """The voucher offer: smallest and largest custom amount, the amounts offered as buttons."""

    name = "shop.offer"
    slots: ClassVar[list[Slot]] = [
        Slot("limits", "shops.owner.ask_limits", parse=parse_limits),
        Slot("amounts", "shops.owner.ask_amounts", parse=parse_amounts),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The offer as it will be stored."""
        low, high = values["limits"]
        return ctx.t(
            "shops.owner.offer_summary",
            amounts=", ".join(euros(a, ctx.lang) for a in values["amounts"]),
            min=euros(low, ctx.lang),
            max=euros(high, ctx.lang),
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store the offer."""

        def change(shop: Shop) -> None:
            shop.voucher_min_cents, shop.voucher_max_cents = values["limits"]
            shop.voucher_amounts = list(values["amounts"])

        return await _edit_card(ctx, args, change)


EDIT_FORMS: dict[str, type[Form]] = {
    "desc": DescriptionForm,
    "hours": HoursForm,
    "notice": NoticeForm,
    "offer": VoucherOfferForm,
}
EDIT_LABELS = {"desc": "description", "hours": "hours", "notice": "notice", "offer": "vouchers"}


@button("shop.edit", role="shop_owner")
async def edit(ctx: Context, shop_id: int, what: str) -> list[Reply]:
    """Begin editing one part of the card."""
    shop = await owned_shop(ctx, shop_id)
    if shop is None:
        return ctx.refuse("shop_owner")
    form = EDIT_FORMS.get(what)
    if form is None:
        return [Reply(ctx.t("button.expired"))]
    return await ctx.start_form(form, shop_id=shop.id)


async def begin_edit(ctx: Context, shop: Shop, part: str) -> list[Reply]:
    """Begin editing a part of the card the owner named in words ('öffnungszeiten ändern'),
    saying which shop and part it is."""
    label = ctx.t(f"shops.button.edit_{EDIT_LABELS[part]}")
    intro = Reply(ctx.t("shops.owner.editing", name=shop.name, part=label))
    return [intro, *await edit(ctx, shop.id, part)]


# --- shop owners: updates to followers -----------------------------------------------------


def start_of_today(ctx: Context) -> datetime:
    """Midnight of today in the city."""
    return cards.now_in_city(ctx).replace(hour=0, minute=0, second=0, microsecond=0)


def shrink_photo(content: bytes) -> bytes:
    """The photo as a JPEG of at most PHOTO_EDGE pixels a side, without its metadata (EXIF, GPS).

    Every follower's outbox row carries the photo, so it is kept small. ValueError if the bytes
    are no image.
    """
    try:
        with Image.open(io.BytesIO(content)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError("not an image") from error
    picture.thumbnail((PHOTO_EDGE, PHOTO_EDGE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


async def _form_update_draft(ctx: Context, image: Attachment) -> int:
    """Keep a photo the owner sent while writing an update as the update's draft; its id."""
    if image.mime_type not in PHOTO_TYPES:
        raise Invalid("shops.update.photo_type")
    if len(image.content) > MAX_PHOTO_BYTES:
        raise Invalid("shops.update.photo_too_big", mb=MAX_PHOTO_BYTES // (1024 * 1024))
    try:
        photo = await asyncio.to_thread(shrink_photo, image.content)
    except ValueError:
        raise Invalid("shops.update.photo_type") from None
    form = ctx.state["form"]
    draft = await shop_updates.save_draft(
        ctx.db,
        int(form["args"]["shop_id"]),
        ctx.user.id,
        photo=photo,
        photo_mime="image/jpeg",
    )
    form["values"]["photo"] = draft.id
    return draft.id


async def parse_update_text(ctx: Context, text: str) -> str:
    """The update's text (a photo sent with it, as caption, is kept too)."""
    image = ctx.incoming.image
    if image is not None:
        await _form_update_draft(ctx, image)
    text = text.strip()
    if not text:
        raise Invalid("shops.update.photo_kept_need_text" if image else "form.too_short")
    if len(text) > MAX_UPDATE_TEXT:
        raise Invalid("shops.update.too_long", max=MAX_UPDATE_TEXT, length=len(text))
    if len(text) < 2:
        raise Invalid("form.too_short")
    return text


async def parse_update_photo(ctx: Context, text: str) -> int:
    """A photo for the update (its draft id), or 0 for 'without a photo'."""
    if ctx.incoming.image is not None:
        return await _form_update_draft(ctx, ctx.incoming.image)
    if re.sub(r"[^\w -]", "", text.lower()).strip() in SKIP_WORDS:
        return 0
    raise Invalid("shops.update.photo_or_skip")


class UpdateForm(Form):
    """An update to the shop's followers: text, optionally one photo, preview, confirm."""

    name = "shop.update"
    slots: ClassVar[list[Slot]] = [
        Slot(
            "text",
            "shops.update.ask_text",
            parse=parse_update_text,
            ask_if=lambda ctx, _v: not ctx.state["form"]["args"].get("text"),
        ),
        Slot("photo", "shops.update.ask_photo", parse=parse_update_photo),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The preview: the message as followers will read it and how many it reaches."""
        text = values.get("text") or args["text"]
        photo = ctx.t("shops.update.with_photo") if values.get("photo") else ""
        return ctx.t(
            "shops.update.preview",
            message=update_text(ctx.t, args["shop_name"], text),
            photo=photo,
            followers=args["followers"],
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Send the update to every follower through the outbox (within the daily limit)."""
        shop = await owned_shop(ctx, int(args["shop_id"]))
        if shop is None:
            return ctx.refuse("shop_owner")
        await shops.lock_shop(ctx.db, shop.id)
        limit = ctx.config.shops.updates_per_day
        used = await shop_updates.sent_since(ctx.db, shop.id, start_of_today(ctx))
        if used >= limit:
            return [Reply(ctx.t("shops.update.limit", limit=limit, name=shop.name))]
        draft = None
        if values.get("photo"):
            draft = await shop_updates.get_update(ctx.db, int(values["photo"]))
            if draft is None or draft.status != shop_updates.DRAFT or draft.shop_id != shop.id:
                return [Reply(ctx.t("button.expired"))]
        if draft is None:
            draft = await shop_updates.save_draft(ctx.db, shop.id, ctx.user.id)
        text = values.get("text") or args["text"]
        draft.text = text
        followers = await shop_updates.follower_ids(ctx.db, shop.id)
        queued = await broadcast(
            ctx.db,
            followers,
            lambda t: compose_update(t, shop, draft),
            dedup_prefix=draft.dedup_prefix,
        )
        await shop_updates.mark_sent(ctx.db, draft, text, queued)
        return [
            Reply(
                ctx.t("shops.update.sent", count=queued, used=used + 1, limit=limit),
                [Button(ctx.t("shops.button.update_status"), payload("shop.status", shop.id))],
            )
        ]


def update_text(t: Translate, shop_name: str, text: str) -> str:
    """An update as followers read it."""
    return t("shops.update.message", name=shop_name, text=text)


def compose_update(t: Translate, shop: Shop, update: ShopUpdate) -> list[Reply]:
    """The message a follower gets: text, the photo if any, and an unfollow button."""
    image = None
    if update.photo is not None:
        extension = "png" if update.photo_mime == "image/png" else "jpg"
        image = Attachment(f"update.{extension}", update.photo, update.photo_mime or "image/jpeg")
    unfollow = Button(t("shops.button.unfollow"), payload("shop.unfollow", shop.id))
    return [Reply(update_text(t, shop.name, update.text), [unfollow], image=image)]


async def status_lines(ctx: Context, shop: Shop) -> str | None:
    """The last updates with how many followers got them (sent / failed / pending)."""
    recent = await shop_updates.recent_updates(ctx.db, shop.id, STATUS_UPDATES)
    if not recent:
        return None
    lines = [ctx.t("shops.update.status_header", name=shop.name)]
    for update in recent:
        counts = await shop_updates.delivery_counts(ctx.db, update)
        assert update.sent_at is not None
        short = update.text if len(update.text) <= 40 else update.text[:39] + "…"
        lines.append(
            ctx.t(
                "shops.update.status_line",
                when=cards.short_time(ctx, update.sent_at),
                text=short,
                **counts,
            )
        )
    return "\n".join(lines)


async def begin_update(ctx: Context, shop: Shop, text: str = "") -> list[Reply]:
    """The status of the last updates, then the update form (unless today's limit is used)."""
    replies = []
    status = await status_lines(ctx, shop)
    if status:
        replies.append(Reply(status))
    limit = ctx.config.shops.updates_per_day
    used = await shop_updates.sent_since(ctx.db, shop.id, start_of_today(ctx))
    if used >= limit:
        return [*replies, Reply(ctx.t("shops.update.limit", limit=limit, name=shop.name))]
    too_long = len(text) > MAX_UPDATE_TEXT
    intro = "shops.update.intro_with_text" if text and not too_long else "shops.update.intro"
    replies.append(Reply(ctx.t(intro, name=shop.name, used=used, limit=limit, text=text)))
    if too_long:  # said right before the question for the text
        replies.append(Reply(ctx.t("shops.update.too_long", max=MAX_UPDATE_TEXT, length=len(text))))
        text = ""
    followers = await shop_updates.follower_count(ctx.db, shop.id)
    form = await ctx.start_form(
        UpdateForm, shop_id=shop.id, shop_name=shop.name, followers=followers, text=text
    )
    if text and ctx.incoming.image is not None:  # a photo captioned "/update TEXT": both at once
        form = await forms.answer(ctx, "")
    return [*replies, *form]


def announced_text(text: str) -> str:
    """The update text of 'an alle: ab morgen liefern wir auch' (empty if none is said)."""
    match = ANNOUNCE.match(text)
    if match:
        return match[1].strip()
    head, colon, rest = text.partition(":")  # "info an alle: neue öffnungszeiten ab montag"
    if colon and len(head) <= HEAD_LENGTH and ASKS_TO_WRITE.search(head):
        return rest.strip()
    return ""


def update_text_of(text: str) -> str:
    """The update a message gives: the text after 'an alle:', or the whole message when it is
    news itself ('wir haben samstags jetzt bis 15 uhr offen'); empty when it only asks to
    write one ('nachricht an alle follower senden')."""
    announced = announced_text(text)
    if announced or ASKS_TO_WRITE.search(text):
        return announced
    return " ".join(text.split())


async def _update_for(ctx: Context, text: str) -> list[Reply]:
    owned = await owned_shops(ctx)
    if not owned:
        return [Reply(ctx.t("shops.owner.no_shop"))]
    if len(owned) > 1:
        ctx.state["shop_update_text"] = text
        return [shop_list(ctx, owned, ctx.t("shops.owner.pick"), "shop.update")]
    return await begin_update(ctx, owned[0], text)


@command("update", help_key="help.cmd.update", role="shop_owner")
async def update_command(ctx: Context, args: str = "") -> list[Reply]:
    """/update [TEXT]: the last updates' delivery, then a new update."""
    return await _update_for(ctx, args.strip())


@intent("broadcast_update", role="shop_owner")
async def broadcast_update(ctx: Context) -> list[Reply]:
    """'an alle: ab morgen liefern wir auch', 'wir haben samstags jetzt bis 15 uhr offen': a
    new update, its text taken from the message (update_text_of) and shown before it is sent;
    'ich möchte meine öffnungszeiten ändern' edits the card instead."""
    text = ctx.incoming.text
    found = cards.owner_command(ctx)
    if found and found[1] and cards.EDIT_WORDS.search(text) and not announced_text(text):
        return await my_shop(ctx, found[1])
    return await _update_for(ctx, update_text_of(text))


@button("shop.update", role="shop_owner")
async def update_button(ctx: Context, shop_id: int) -> list[Reply]:
    """Write an update for one of the owner's shops."""
    shop = await owned_shop(ctx, shop_id)
    if shop is None:
        return ctx.refuse("shop_owner")
    return await begin_update(ctx, shop, ctx.state.pop("shop_update_text", "") or "")


@button("shop.status", role="shop_owner")
async def update_status(ctx: Context, shop_id: int) -> list[Reply]:
    """How the last updates were delivered."""
    shop = await owned_shop(ctx, shop_id)
    if shop is None:
        return ctx.refuse("shop_owner")
    return [Reply(await status_lines(ctx, shop) or ctx.t("shops.update.none_yet"))]
