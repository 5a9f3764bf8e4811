"""PPE for coordinators: the queue by priority, approve (fully or in part), reject, deliver,
supplies and corrections of the stock, the report; a coordinator's words read as a
requester's intent ("approve request 12", "we received 500 ffp2 masks") get the queue, or an
approval or supply to confirm (ApproveForm, SupplyForm)."""

from __future__ import annotations

from typing import Any, ClassVar

from bot import listing
from bot.context import Context
from bot.forms import Choice, Form, Invalid, Slot, form_args, free_text
from bot.i18n import Translate
from bot.listing import Item
from bot.messages import Attachment, Button, Reply
from bot.registry import button, command, payload
from handlers import ppe_input
from handlers.ppe_notify import tell_requester, warn_low_stock
from handlers.ppe_report import build_report
from handlers.ppe_text import (
    day,
    explain,
    item_name,
    number,
    pieces_text,
    stale_text,
    status_line,
)
from storage import ppe
from storage.base import utcnow
from storage.ppe import ITEMS, PPERequest, StockError

QUEUE_SIZE = 15


async def _queue(ctx: Context) -> tuple[list[PPERequest], list[PPERequest]]:
    """Submitted requests by priority, then approved ones awaiting delivery."""
    ordered = await ppe.prioritised(ctx.db, ctx.config.ppe.consumption_days)
    approved = await ppe.open_requests(ctx.db, ppe.APPROVED)
    return ordered, approved


def queue_line(t: Translate, lang: str, request: PPERequest, levels: dict[str, int]) -> str:
    """A queue entry: number, department, urgency, needed by, items with the stock."""
    urgent = "‼️ " if request.urgency == ppe.URGENT else ""
    items = ", ".join(
        t(
            "ppe.queue.item",
            item=pieces_text(t, lang, line.item, line.requested),
            stock=number(lang, levels.get(line.item, 0)),
        )
        for line in request.lines
    )
    return t(
        "ppe.queue.line",
        urgent=urgent,
        number=request.number,
        department=request.department.name,
        needed_by=day(lang, request.needed_by),
        items=items,
    )


@button("ppe.queue", role="ppe_coordinator", private=True)
@command("ppequeue", help_key="help.cmd.ppequeue", role="ppe_coordinator", private=True)
async def queue(ctx: Context, _args: str = "") -> list[Reply]:
    """The open requests by priority in one message, one Details button each."""
    ordered, approved = await _queue(ctx)
    if not ordered and not approved:
        return [Reply(ctx.t("ppe.queue.empty"))]
    levels = await ppe.stock(ctx.db)
    shown = ordered[:QUEUE_SIZE]
    details = ctx.t("ppe.button.details")
    more = ""
    if len(ordered) > QUEUE_SIZE:
        more = ctx.t("ppe.queue.more", count=len(ordered) - QUEUE_SIZE)
    sections = [  # none submitted, some approved: said so, not a heading over nothing
        listing.page(
            ctx.t("ppe.queue.title", count=len(ordered)),
            [
                Item(
                    queue_line(ctx.t, ctx.lang, request, levels),
                    [Button(details, payload("ppe.show", request.id))],
                )
                for request in shown
            ],
            footer=more,
            separator="\n",
        )
        if ordered
        else Reply(ctx.t("ppe.queue.empty"))
    ]
    if approved:
        delivered = ctx.t("ppe.button.delivered")
        sections.append(
            listing.page(  # numbered on after the queue's items
                ctx.t("ppe.queue.to_deliver", count=len(approved)),
                [
                    Item(
                        f"{request.number} · {request.department.name}",
                        [Button(delivered, payload("ppe.delivered", request.id))],
                    )
                    for request in approved[:QUEUE_SIZE]
                ],
                first=len(shown) + 1,
                separator="\n",
            )
        )
    example = (ordered or approved)[0]  # the commands take its number, not its list position
    hint = ctx.t("ppe.queue.help", number=example.number, id=example.id)
    text = "\n".join([*(section.text for section in sections), hint])
    return [Reply(text, [b for section in sections for b in section.buttons])]


def details_text(ctx: Context, request: PPERequest, levels: dict[str, int]) -> str:
    """A request in full: number, department, state, urgency, items with the stock, address."""
    return ctx.t(
        "ppe.details",
        number=request.number,
        department=request.department.name,
        state=ctx.t(f"ppe.state.{request.status}"),
        urgency=ctx.t(f"ppe.urgency.{request.urgency}"),
        needed_by=day(ctx.lang, request.needed_by),
        address=request.delivery_address,
        note=request.note or "–",
        items="\n".join(
            "• "
            + ctx.t(
                "ppe.queue.item",
                item=pieces_text(ctx.t, ctx.lang, line.item, line.requested),
                stock=number(ctx.lang, levels[line.item]),
            )
            for line in request.lines
        ),
    )


@button("ppe.show", role="ppe_coordinator", private=True)
async def show(ctx: Context, request_id: int) -> list[Reply]:
    """One request with the stock of its items and what can be done with it now."""
    request = await ppe.get_request(ctx.db, request_id)
    if request is None:
        return [Reply(ctx.t("ppe.not_found"))]
    levels = await ppe.stock(ctx.db, [line.item for line in request.lines])
    text = details_text(ctx, request, levels)
    buttons = []
    if request.status == ppe.SUBMITTED:
        buttons = [
            Button(ctx.t("ppe.button.approve"), payload("ppe.approve", request.id)),
            Button(ctx.t("ppe.button.part"), payload("ppe.part", request.id)),
            Button(ctx.t("ppe.button.reject"), payload("ppe.reject", request.id)),
        ]
    elif request.status == ppe.APPROVED:
        buttons = [Button(ctx.t("ppe.button.mark_delivered"), payload("ppe.delivered", request.id))]
    return [Reply(text, buttons)]


async def _decidable(ctx: Context, request_id: int | None) -> PPERequest | list[Reply]:
    """A submitted request, locked; or the answer why it cannot be decided."""
    request = await ppe.get_request(ctx.db, request_id, lock=True) if request_id else None
    if request is None:
        return [Reply(ctx.t("ppe.not_found"))]
    if request.status != ppe.SUBMITTED:
        return [Reply(stale_text(ctx.t, request))]
    return request


def allocation_problem(
    ctx: Context, request: PPERequest, allocation: dict[str, int]
) -> Invalid | None:
    """Why an allocation does not fit the request (an item not in it, more than asked, none)."""
    requested = {line.item: line.requested for line in request.lines}
    for item, qty in allocation.items():
        if item not in requested:
            return Invalid("ppe.bad.not_in_request", item=item_name(ctx.t, item))
        if qty > requested[item]:
            return Invalid(
                "ppe.bad.more_than_requested",
                item=item_name(ctx.t, item),
                requested=number(ctx.lang, requested[item]),
            )
    if not any(allocation.values()):
        return Invalid("ppe.bad.nothing_allocated", id=request.id)
    return None


async def allocate(
    ctx: Context, request_id: int | None, allocation: dict[str, int] | None
) -> list[Reply]:
    """Approve a request fully (allocation None) or with pieces per item; checks everything."""
    request = await _decidable(ctx, request_id)
    if isinstance(request, list):
        return request
    requested = {line.item: line.requested for line in request.lines}
    allocation = dict(requested) if allocation is None else allocation
    problem = allocation_problem(ctx, request, allocation)
    if problem is not None:
        return [Reply(ctx.t(problem.key, **problem.values))]
    try:
        levels = await ppe.approve(ctx.db, request, allocation, ctx.user.id)
    except StockError as short:
        return [
            Reply(
                ctx.t(
                    "ppe.bad.more_than_stock",
                    item=item_name(ctx.t, short.item),
                    stock=number(ctx.lang, short.stock),
                    wanted=number(ctx.lang, short.wanted),
                    id=request.id,
                )
            )
        ]
    await tell_requester(ctx, request)
    await warn_low_stock(ctx, levels)
    key = "ppe.approved_full" if ppe.fully_allocated(request) else "ppe.approved_part"
    return [Reply(ctx.t(key, number=request.number) + "\n" + status_line(ctx.t, ctx.lang, request))]


async def read_allocation(
    ctx: Context, text: str, request: PPERequest | None, usage: str
) -> dict[str, int]:
    """Pieces per item: 'ffp2 1000', '1000 ffp2', '1000 FFP2-Masken und 2 Kartons Handschuhe'.

    Plain "Masken" is the request's kind of masks (asks which when it has both). A text that
    reads neither as ITEM QTY pairs nor as the request form reads items: Invalid(usage).
    """
    items = [line.item for line in request.lines] if request else list(ITEMS)
    masks = tuple(kind for kind in ppe.MASKS if kind in items)
    try:
        return ppe_input.allocation_pairs(text.split(), masks)
    except Invalid as invalid:
        strict = invalid
    if strict.key in (ppe_input.WHICH_MASK, "ppe.bad.not_in_request"):
        raise explain(ctx, strict)
    entities = ppe_input.candidates(await ctx.understand(text))
    try:
        found = ppe_input.items_in(text, entities, ctx.config.ppe.max_packs, masks)
    except Invalid as loose:
        if loose.key not in ("ppe.bad.unknown_item", "ppe.bad.no_quantity"):
            raise explain(ctx, loose) from None
        unknown = strict.key == "ppe.bad.unknown_item"  # "klopapier 100": the catalogue
        raise explain(ctx, strict if unknown else Invalid(usage)) from None
    return dict(found)


@command("ppeapprove", help_key="help.cmd.ppeapprove", role="ppe_coordinator", private=True)
async def approve_command(ctx: Context, args: str = "") -> list[Reply]:
    """/ppeapprove N [ITEM QTY ...]: all that was asked, or the given pieces per item."""
    head, _, rest = args.strip().partition(" ")
    request_id = ppe_input.request_id(head) if head else None
    if request_id is None:
        return [Reply(ctx.t("ppe.usage.approve"))]
    allocation = None
    if rest.strip():
        request = await ppe.get_request(ctx.db, request_id)
        try:
            allocation = await read_allocation(ctx, rest, request, "ppe.usage.approve")
        except Invalid as bad:
            return [Reply(ctx.t(bad.key, **bad.values))]
    return await allocate(ctx, request_id, allocation)


@button("ppe.approve", role="ppe_coordinator", private=True)
async def approve_button(ctx: Context, request_id: int) -> list[Reply]:
    """Approve everything the request asks for."""
    return await allocate(ctx, request_id, None)


async def parse_allocation(ctx: Context, text: str) -> dict[str, int]:
    """The part-allocation slot: 'ffp2_mask 100 gloves 500', '1000 ffp2 masken' (pieces)."""
    request = await ppe.get_request(ctx.db, form_args(ctx).get("request_id", 0))
    allocation = await read_allocation(ctx, text, request, "ppe.usage.allocation")
    problem = allocation_problem(ctx, request, allocation) if request else None
    if problem is not None:
        raise problem
    return allocation


class PartForm(Form):
    """Allocate part of a request: pieces per item."""

    name = "ppe.part"
    confirm = False
    role = "ppe_coordinator"
    slots: ClassVar[list[Slot]] = [Slot("allocation", "ppe.ask_allocation", parse=parse_allocation)]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Allocate (everything re-checked against the request's current state)."""
        return await allocate(ctx, args["request_id"], values["allocation"])


@button("ppe.part", role="ppe_coordinator", private=True)
async def part_button(ctx: Context, request_id: int) -> list[Reply]:
    """Ask how much of each item to allocate."""
    request = await _decidable(ctx, request_id)
    if isinstance(request, list):
        return request
    example = " ".join(f"{line.item} {line.requested // 2}" for line in request.lines)
    intro = Reply(ctx.t("ppe.part_intro", number=request.number, example=example))
    return [intro, *await ctx.start_form(PartForm, request_id=request.id)]


async def reject(ctx: Context, request_id: int | None, reason: str) -> list[Reply]:
    """Reject a submitted request with a reason."""
    reason = reason.strip()
    if len(reason) < 3:
        return [Reply(ctx.t("ppe.usage.reject"))]
    request = await _decidable(ctx, request_id)
    if isinstance(request, list):
        return request
    await ppe.set_status(ctx.db, request, ppe.REJECTED, reason[:500])
    await tell_requester(ctx, request)
    return [Reply(ctx.t("ppe.rejected", number=request.number))]


@command("ppereject", help_key="help.cmd.ppereject", role="ppe_coordinator", private=True)
async def reject_command(ctx: Context, args: str = "") -> list[Reply]:
    """/ppereject N REASON."""
    head, _, reason = args.strip().partition(" ")
    request_id = ppe_input.request_id(head) if head else None
    if request_id is None or not reason.strip():
        return [Reply(ctx.t("ppe.usage.reject"))]
    return await reject(ctx, request_id, reason)


class RejectForm(Form):
    """Reject a request: the reason."""

    name = "ppe.reject"
    confirm = False
    role = "ppe_coordinator"
    slots: ClassVar[list[Slot]] = [
        Slot("reason", "ppe.ask_reason", parse=free_text(500, min_length=3))
    ]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Reject (the request's state re-checked)."""
        return await reject(ctx, args["request_id"], values["reason"])


@button("ppe.reject", role="ppe_coordinator", private=True)
async def reject_button(ctx: Context, request_id: int) -> list[Reply]:
    """Ask for the reason of a rejection."""
    request = await _decidable(ctx, request_id)
    if isinstance(request, list):
        return request
    return await ctx.start_form(RejectForm, request_id=request.id)


@command("ppedelivered", help_key="help.cmd.ppedelivered", role="ppe_coordinator", private=True)
async def delivered_command(ctx: Context, args: str = "") -> list[Reply]:
    """/ppedelivered N."""
    request_id = ppe_input.request_id(args)
    if request_id is None:
        return [Reply(ctx.t("ppe.usage.delivered"))]
    return await delivered(ctx, request_id)


@button("ppe.delivered", role="ppe_coordinator", private=True, by_number=False)
async def delivered(ctx: Context, request_id: int) -> list[Reply]:
    """Mark an approved request delivered."""
    request = await ppe.get_request(ctx.db, request_id, lock=True)
    if request is None:
        return [Reply(ctx.t("ppe.not_found"))]
    if request.status == ppe.SUBMITTED:  # not decided yet: not "no longer possible"
        return [Reply(ctx.t("ppe.not_approved_yet", number=request.number, id=request.id))]
    if request.status != ppe.APPROVED:
        return [Reply(stale_text(ctx.t, request))]
    await ppe.set_status(ctx.db, request, ppe.DELIVERED)
    await tell_requester(ctx, request)
    return [Reply(ctx.t("ppe.delivered", number=request.number))]


def _quantity_limit(ctx: Context, item: str, qty: int) -> Invalid | None:
    """Why a stock movement's quantity is refused (zero, more than max_packs packs), or None."""
    if qty == 0:
        return Invalid("ppe.bad.zero")
    if abs(qty) > ctx.config.ppe.max_packs * ITEMS[item].pack_size:
        return Invalid("ppe.bad.absurd", item=item_name(ctx.t, item), max=ctx.config.ppe.max_packs)
    return None


async def book_supply(
    ctx: Context, booked: dict[str, int], source: str, note: str | None
) -> list[Reply]:
    """Book incoming stock (already checked) and say the new stock of each item."""
    levels = await ppe.record_movements(
        ctx.db, booked, kind=ppe.SUPPLY, source=source, reason=note, user_id=ctx.user.id
    )
    await ppe.crossed_low(ctx.db, levels, ctx.config.ppe.low_stock)
    said = ctx.t(f"ppe.source.{source}")
    return [
        Reply(
            "\n".join(
                ctx.t(
                    "ppe.supplied",
                    item=pieces_text(ctx.t, ctx.lang, item, qty),
                    source=said,
                    stock=number(ctx.lang, levels[item]),
                )
                for item, qty in booked.items()
            )
        )
    ]


@command("ppesupply", help_key="help.cmd.ppesupply", role="ppe_coordinator")
async def supply(ctx: Context, args: str = "") -> list[Reply]:
    """/ppesupply ITEM QTY SOURCE [NOTE]: incoming stock (purchase, donation, local_makers);
    item and quantity in either order, also in packs ("handschuhe 2 kartons")."""
    words = args.split()
    at = ppe_input.source_at(words)
    if at is None:
        return [Reply(ctx.t("ppe.usage.supply"))]
    source = ppe_input.source_key(words[at])
    assert source is not None
    try:  # "gloves 1,000", "500 op-masken", "handschuhe 2 kartons" as allocations read them
        booked = await read_allocation(ctx, " ".join(words[:at]), None, "ppe.usage.supply")
    except Invalid as bad:  # unknown, "masken" without the kind, negative, …
        return [Reply(ctx.t(bad.key, **bad.values))]
    if len(booked) != 1:
        return [Reply(ctx.t("ppe.usage.supply"))]
    [(item, qty)] = booked.items()
    problem = _quantity_limit(ctx, item, qty)
    if problem:
        return [Reply(ctx.t(problem.key, **problem.values))]
    return await book_supply(ctx, booked, source, " ".join(words[at + 1 :])[:300] or None)


async def parse_supply_items(ctx: Context, text: str) -> list[list[Any]]:
    """The supply form's items: '500 FFP2-Masken', 'handschuhe 2 kartons' -> [[item, pieces]]."""
    booked = await read_allocation(ctx, text, None, "ppe.usage.supply_items")
    for item, qty in booked.items():
        problem = _quantity_limit(ctx, item, qty)
        if problem:
            raise problem
    return [[item, qty] for item, qty in booked.items()]


async def source_choices(_ctx: Context) -> list[Choice]:
    """Where incoming stock comes from: purchase, donation, local makers."""
    return [Choice(key, f"ppe.source.{key}") for key in ppe.SOURCES]


class SupplyForm(Form):
    """Incoming stock said in words ("we received 500 ffp2 masks as a donation"): the items
    and the source, booked only after confirmation."""

    name = "ppe.supply"
    role = "ppe_coordinator"
    slots: ClassVar[list[Slot]] = [
        Slot("items", "ppe.ask_supply_items", parse=parse_supply_items),
        Slot("source", "ppe.ask_source", choices=source_choices),
    ]

    @classmethod
    async def prefill(cls, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        """What the words said: items with quantities, the source."""
        return dict(args.pop("values", {}))

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The incoming stock as it will be booked."""
        items = "\n".join(
            f"• {pieces_text(ctx.t, ctx.lang, item, qty)}" for item, qty in values["items"]
        )
        return ctx.t(
            "ppe.confirm_supply", items=items, source=ctx.t(f"ppe.source.{values['source']}")
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Book the supply."""
        booked = {item: int(qty) for item, qty in values["items"]}
        return await book_supply(ctx, booked, values["source"], None)


async def supply_in_words(ctx: Context, text: str) -> list[Reply]:
    """The supply form, prefilled with the items and source the words name; a quantity that
    does not fit is said before the form asks for the items."""
    values: dict[str, Any] = {}
    problems: list[Reply] = []
    source = ppe_input.source_in(text)
    if source:
        values["source"] = source
    entities = ppe_input.candidates(ctx.parse)
    try:  # zero and absurd quantities refused as /ppesupply refuses them
        found = ppe_input.items_in(text, entities, ctx.config.ppe.max_packs)
    except Invalid as bad:  # nothing (or an item without its quantity) said: the form asks
        if bad.key not in ("ppe.bad.unknown_item", ppe_input.NO_QUANTITY):
            bad = explain(ctx, bad)
            problems.append(Reply(ctx.t(bad.key, **bad.values)))
    else:
        values["items"] = found
    return [*problems, *await ctx.start_form(SupplyForm, values=values)]


class ApproveForm(Form):
    """Approve a request named in words ("approve request 12"): everything it asks for, only
    after confirmation."""

    name = "ppe.approve_confirm"
    role = "ppe_coordinator"
    slots: ClassVar[list[Slot]] = []

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The request in full, and the question whether to approve it all."""
        return str(args["summary"])

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Approve everything (the request's state and the stock re-checked)."""
        return await allocate(ctx, args["request_id"], None)


async def approval_in_words(ctx: Context, request_id: int) -> list[Reply]:
    """Ask to confirm approving request N in full (what /ppeapprove N would approve)."""
    request = await _decidable(ctx, request_id)
    if isinstance(request, list):
        return request
    levels = await ppe.stock(ctx.db, [line.item for line in request.lines])
    summary = ctx.t(
        "ppe.confirm_approve", number=request.number, details=details_text(ctx, request, levels)
    )
    return await ctx.start_form(ApproveForm, request_id=request.id, summary=summary)


async def coordinator_words(ctx: Context, default: str | None = None) -> list[Reply]:
    """A coordinator's words read as a requester's intent: the queue, approving request N or
    booking incoming stock (each confirmed first), else where the commands are."""
    text = ctx.incoming.text
    wish = ppe_input.coordinator_wish(text) or default
    if wish == ppe_input.APPROVE and (request_id := ppe_input.number_in(text)) is not None:
        return await approval_in_words(ctx, request_id)
    if wish == ppe_input.SUPPLY:
        return await supply_in_words(ctx, text)
    if wish == ppe_input.QUEUE:
        return await queue(ctx)
    return [Reply(ctx.t("ppe.coordinator_hint"))]


@command("ppecorrect", help_key="help.cmd.ppecorrect", role="ppe_coordinator")
async def correct(ctx: Context, args: str = "") -> list[Reply]:
    """/ppecorrect ITEM ±QTY REASON: a stock correction (count, breakage, expiry); ITEM as
    /ppesupply reads it ("FFP2 masks", "face shields", "OP-Masken")."""
    words = args.split()
    at = next(
        (i for i, word in enumerate(words) if i and ppe_input.signed_int(word) is not None), None
    )
    if at is None or len(" ".join(words[at + 1 :])) < 3:
        return [Reply(ctx.t("ppe.usage.correct"))]
    qty, reason = int(ppe_input.signed_int(words[at]) or 0), " ".join(words[at + 1 :])
    try:  # the item as a supply reads it: with its size, "FFP2 masks 20"
        booked = await read_allocation(
            ctx, f"{' '.join(words[:at])} {abs(qty)}", None, "ppe.usage.correct"
        )
    except Invalid as invalid:  # unknown, or "masken" without the kind
        return [Reply(ctx.t(invalid.key, **invalid.values))]
    if len(booked) != 1:
        return [Reply(ctx.t("ppe.usage.correct"))]
    item = next(iter(booked))
    problem = _quantity_limit(ctx, item, qty)
    if problem:
        return [Reply(ctx.t(problem.key, **problem.values))]
    try:
        levels = await ppe.record_movements(
            ctx.db, {item: qty}, kind=ppe.CORRECTION, reason=reason[:300], user_id=ctx.user.id
        )
    except StockError as short:
        return [
            Reply(
                ctx.t(
                    "ppe.bad.below_zero",
                    item=item_name(ctx.t, item),
                    stock=number(ctx.lang, short.stock),
                )
            )
        ]
    await warn_low_stock(ctx, levels)
    return [
        Reply(
            ctx.t(
                "ppe.corrected",
                item=item_name(ctx.t, item),
                qty=f"{qty:+d}",
                stock=number(ctx.lang, levels[item]),
            )
        )
    ]


@command("ppereport", help_key="help.cmd.ppereport", role="ppe_coordinator", private=True)
async def report(ctx: Context, _args: str = "") -> list[Reply]:
    """The stock chart (PNG) and every movement (CSV) in one message."""
    now = utcnow()
    png, csv_bytes = await build_report(ctx.db, ctx.config, now)
    stamp = now.astimezone(ctx.config.city.tz).strftime("%Y-%m-%d")
    return [
        Reply(
            ctx.t("ppe.report", weeks=ctx.config.ppe.report_weeks),
            image=Attachment(f"ppe-stock-{stamp}.png", png, "image/png"),
            file=Attachment(f"ppe-movements-{stamp}.csv", csv_bytes, "text/csv"),
        )
    ]
