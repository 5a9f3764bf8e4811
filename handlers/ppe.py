"""PPE: departments request protective equipment; coordinators allocate from the stock ledger.

```mermaid
stateDiagram-v2
    [*] --> submitted: request_ppe / /ppe (items, needed by, urgency, address, note, confirm)
    submitted --> approved: /ppeapprove N (all) or N ITEM QTY ... (part), stock allocated
    submitted --> rejected: /ppereject N REASON
    submitted --> withdrawn: /ppewithdraw N (requester)
    approved --> delivered: /ppedelivered N
    rejected --> [*]
    withdrawn --> [*]
    delivered --> [*]
```
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from apscheduler.triggers.cron import CronTrigger
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.context import Context
from bot.forms import Choice, Form, Invalid, Slot, free_text
from bot.i18n import Translate
from bot.messages import Attachment, Button, Reply
from bot.notify import notify
from bot.registry import button, command, intent, payload
from bot.scheduler import recurring, runtime
from handlers import ppe_input
from handlers.ppe_report import build_report
from storage import ppe
from storage.base import utcnow
from storage.ppe import ITEMS, PPERequest, StockError

QUEUE_SIZE = 15
STATUS_SIZE = 10
NO_NOTE = {"-", "nein", "keine", "kein", "no", "none", "nothing", "nichts", "n/a"}


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
    """'200 FFP2-Masken', with packs '200 Handschuhe (2 Kartons à 100)'."""
    pack = ITEMS[item].pack_size
    text = f"{number(lang, qty)} {item_name(t, item)}"
    if packs and qty % pack == 0 and qty >= pack:
        text += " " + t("ppe.packs", packs=number(lang, qty // pack), size=number(lang, pack))
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
    if invalid.key == "ppe.bad.unknown_item":
        values["items"] = catalogue_text(ctx.t)
    return Invalid(invalid.key, **values)


def today(ctx: Context) -> date:
    """Today in the city."""
    return utcnow().astimezone(ctx.config.city.tz).date()


async def parse_items(ctx: Context, text: str) -> list[list[Any]]:
    """The items slot: '200 FFP2-Masken, 2 Kartons Handschuhe' -> [[item, pieces], ...]."""
    parse = await ctx.understand()
    try:
        return ppe_input.items_in(text, ppe_input.candidates(parse), ctx.config.ppe.max_packs)
    except Invalid as invalid:
        raise explain(ctx, invalid) from None


def check_date(ctx: Context, found: date | None) -> str:
    """A needed-by date as ISO text; Invalid when missing or in the past."""
    if found is None:
        raise Invalid("ppe.bad.date")
    if found < today(ctx):
        raise Invalid("ppe.bad.past", date=day(ctx.lang, found))
    return found.isoformat()


async def parse_needed_by(ctx: Context, text: str) -> str:
    """The needed-by slot: 'freitag', '12.12.', 'next monday'."""
    parse = await ctx.understand()
    return check_date(ctx, ppe_input.date_in(text, ppe_input.candidates(parse), today(ctx)))


def parse_note(_ctx: Context, text: str) -> str:
    """The note slot: free text, or '-' / 'nein' / 'no' for none."""
    text = text.strip()
    if text.lower().strip(".!") in NO_NOTE:
        return ""
    if len(text) > 500:
        raise Invalid("form.too_long", max=500)
    return text


async def department_choices(ctx: Context) -> list[Choice]:
    """The departments the requester may ask for (labels are their names)."""
    return [Choice(key, ppe.department_name(key)) for key in ctx.orgs("ppe_requester")]


async def urgency_choices(_ctx: Context) -> list[Choice]:
    """Normal or urgent."""
    return [Choice(ppe.NORMAL, "ppe.urgency.normal"), Choice(ppe.URGENT, "ppe.urgency.urgent")]


def _form_args(ctx: Context) -> dict[str, Any]:
    return (ctx.state.get("form") or {}).get("args", {})


def _department_of(ctx: Context, values: dict[str, Any]) -> str:
    orgs = ctx.orgs("ppe_requester")
    return values.get("department") or (orgs[0] if orgs else "")


def _needs_address(ctx: Context, values: dict[str, Any]) -> bool:
    return not _form_args(ctx).get("addresses", {}).get(_department_of(ctx, values))


class RequestForm(Form):
    """A department's request: items, needed-by date, urgency, delivery address, note."""

    name = "ppe.request"
    slots: ClassVar[list[Slot]] = [
        Slot(
            "department",
            "ppe.ask_department",
            choices=department_choices,
            ask_if=lambda ctx, _v: len(ctx.orgs("ppe_requester")) > 1,
        ),
        Slot("items", "ppe.ask_items", parse=parse_items),
        Slot("needed_by", "ppe.ask_needed_by", parse=parse_needed_by),
        Slot("urgency", "ppe.ask_urgency", choices=urgency_choices),
        Slot(
            "address", "ppe.ask_address", parse=free_text(300, min_length=5), ask_if=_needs_address
        ),
        Slot("note", "ppe.ask_note", parse=parse_note),
    ]

    @classmethod
    async def prefill(cls, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        """What the message said (items, date, urgency) and the remembered addresses."""
        addresses = {}
        for key in ctx.orgs("ppe_requester"):
            department = await ppe.get_department(ctx.db, key)
            if department is not None and department.delivery_address:
                addresses[key] = department.delivery_address
        args["addresses"] = addresses
        return dict(args.pop("values", {}))

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The request as it will be sent."""
        key = _department_of(ctx, values)
        address = values.get("address") or args["addresses"].get(key, "")
        return ctx.t(
            "ppe.summary",
            department=ppe.department_name(key),
            items="\n".join(
                f"• {pieces_text(ctx.t, ctx.lang, item, qty, packs=True)}"
                for item, qty in values["items"]
            ),
            needed_by=day(ctx.lang, date.fromisoformat(values["needed_by"])),
            urgency=ctx.t(f"ppe.urgency.{values['urgency']}"),
            address=address,
            note=values.get("note") or "–",
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store the request; coordinators hear of an urgent one at once."""
        key = _department_of(ctx, values)
        if key not in ctx.orgs("ppe_requester"):
            return ctx.refuse("ppe_requester")
        needed_by = date.fromisoformat(values["needed_by"])
        if needed_by < today(ctx):
            return [Reply(ctx.t("ppe.bad.past", date=day(ctx.lang, needed_by)))]
        department = await ppe.get_department(ctx.db, key, create=True)
        assert department is not None
        request = await ppe.create_request(
            ctx.db,
            department,
            ctx.user.id,
            [(item, int(qty)) for item, qty in values["items"]],
            urgency=values["urgency"],
            needed_by=needed_by,
            delivery_address=values.get("address") or args["addresses"][key],
            note=values.get("note", ""),
        )
        if request.urgency == ppe.URGENT:
            for user_id in await ppe.coordinator_ids(ctx.db):
                await notify(
                    ctx.db,
                    user_id,
                    lambda t, r=request: compose_urgent(t, r),
                    dedup_key=f"ppe:urgent:{request.id}:{user_id}",
                )
        return [
            Reply(
                ctx.t("ppe.submitted", number=request.number),
                [Button(ctx.t("ppe.button.status"), "ppe.status")],
            )
        ]


@intent("request_ppe", role="ppe_requester", private=True)
@command("ppe", help_key="help.cmd.ppe", role="ppe_requester", private=True)
async def request_ppe(ctx: Context, _args: str = "") -> list[Reply]:
    """Begin a request, filled with what the message already says."""
    if not ctx.orgs("ppe_requester"):
        return ctx.refuse("ppe_requester")
    parse, text = ctx.parse, ctx.incoming.text if ctx.parse else ""
    if _args.strip():
        text = _args.strip()
        parse = await ctx.understand(text)
    entities = ppe_input.candidates(parse)
    values: dict[str, Any] = {}
    problems: list[Reply] = []
    said_items = any(e["entity"] in ("ppe_item", "quantity") for e in entities)
    if said_items or ppe_input.NEGATIVE.search(text):
        try:
            values["items"] = ppe_input.items_in(text, entities, ctx.config.ppe.max_packs)
        except Invalid as invalid:
            bad = explain(ctx, invalid)
            problems.append(Reply(ctx.t(bad.key, **bad.values)))
    found = ppe_input.date_in("", entities, today(ctx))
    if found is not None:
        try:
            values["needed_by"] = check_date(ctx, found)
        except Invalid as invalid:
            problems.append(Reply(ctx.t(invalid.key, **invalid.values)))
    if text and ppe_input.is_urgent(text):
        values["urgency"] = ppe.URGENT
    return [*problems, *await ctx.start_form(RequestForm, values=values)]


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


@intent("ppe_status", role="ppe_requester", private=True)
@command("ppestatus", help_key="help.cmd.ppestatus", role="ppe_requester", private=True)
async def ppe_status(ctx: Context, _args: str = "") -> list[Reply]:
    """My department's newest requests in one message; submitted ones can be withdrawn."""
    orgs = ctx.orgs("ppe_requester")
    if not orgs:
        return ctx.refuse("ppe_requester")
    found = await ppe.requests_of(ctx.db, orgs, STATUS_SIZE)
    if not found:
        return [Reply(ctx.t("ppe.status.none"))]
    lines = [ctx.t("ppe.status.title", count=len(found))]
    buttons = []
    for n, request in enumerate(found, 1):
        lines.append(f"{n}. {status_line(ctx.t, ctx.lang, request)}")
        if request.status == ppe.SUBMITTED:
            buttons.append(
                Button(ctx.t("ppe.button.withdraw", n=n), payload("ppe.withdraw", request.id))
            )
    return [Reply("\n".join(lines), buttons)]


@button("ppe.status", role="ppe_requester", private=True)
async def status_button(ctx: Context) -> list[Reply]:
    """The status button under a confirmation."""
    return await ppe_status(ctx)


async def _own_request(ctx: Context, request_id: int | None) -> PPERequest | list[Reply]:
    """A request of one of the requester's departments (locked), or the answer why not."""
    request = await ppe.get_request(ctx.db, request_id, lock=True) if request_id else None
    if request is None:
        return [Reply(ctx.t("ppe.not_found"))]
    if request.department.key not in ctx.orgs("ppe_requester"):
        return [Reply(ctx.t("ppe.bad.not_yours", number=request.number))]
    return request


@command("ppewithdraw", help_key="help.cmd.ppewithdraw", role="ppe_requester", private=True)
async def withdraw_command(ctx: Context, args: str = "") -> list[Reply]:
    """/ppewithdraw N: withdraw a request that is still submitted."""
    request_id = ppe_input.request_id(args)
    if request_id is None:
        return [Reply(ctx.t("ppe.usage.withdraw"))]
    return await withdraw(ctx, request_id)


@button("ppe.withdraw", role="ppe_requester", private=True)
async def withdraw(ctx: Context, request_id: int) -> list[Reply]:
    """Withdraw a submitted request of the requester's department."""
    request = await _own_request(ctx, request_id)
    if isinstance(request, list):
        return request
    if request.status != ppe.SUBMITTED:
        return [Reply(stale_text(ctx.t, request))]
    await ppe.set_status(ctx.db, request, ppe.WITHDRAWN)
    if request.requested_by and request.requested_by != ctx.user.id:
        await tell_requester(ctx, request)
    return [Reply(ctx.t("ppe.withdrawn", number=request.number))]


@command("ppeaddress", help_key="help.cmd.ppeaddress", role="ppe_requester", private=True)
async def set_address(ctx: Context, args: str = "") -> list[Reply]:
    """/ppeaddress TEXT: change my department's remembered delivery address."""
    orgs = ctx.orgs("ppe_requester")
    if not orgs:
        return ctx.refuse("ppe_requester")
    address = args.strip()
    if not 5 <= len(address) <= 300:
        return [Reply(ctx.t("ppe.usage.address"))]
    for key in orgs:
        department = await ppe.get_department(ctx.db, key, create=True)
        assert department is not None
        department.delivery_address = address
    return [Reply(ctx.t("ppe.address_saved", address=address))]


def stale_text(t: Translate, request: PPERequest) -> str:
    """A request that is no longer in the state the action needs."""
    return t("ppe.stale", number=request.number, state=t(f"ppe.state.{request.status}"))


# ---- coordinators -------------------------------------------------------------------------


async def _queue(ctx: Context) -> tuple[list[PPERequest], list[PPERequest]]:
    """Submitted requests by priority, then approved ones awaiting delivery."""
    submitted = await ppe.open_requests(ctx.db, ppe.SUBMITTED)
    left = await ppe.days_of_stock_left(
        ctx.db, [r.department_id for r in submitted], ctx.config.ppe.consumption_days
    )
    ordered = ppe.by_priority(submitted, left)
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
    lines = [ctx.t("ppe.queue.title", count=len(ordered))]
    shown = ordered[:QUEUE_SIZE]
    buttons = []
    for n, request in enumerate(shown, 1):
        lines.append(f"{n}. " + queue_line(ctx.t, ctx.lang, request, levels))
        buttons.append(Button(ctx.t("ppe.button.details", n=n), payload("ppe.show", request.id)))
    if len(ordered) > QUEUE_SIZE:
        lines.append(ctx.t("ppe.queue.more", count=len(ordered) - QUEUE_SIZE))
    if approved:
        lines.append(ctx.t("ppe.queue.to_deliver", count=len(approved)))
        for n, request in enumerate(approved[:QUEUE_SIZE], len(shown) + 1):
            lines.append(f"{n}. {request.number} · {request.department.name}")
            buttons.append(
                Button(ctx.t("ppe.button.delivered", n=n), payload("ppe.delivered", request.id))
            )
    lines.append(ctx.t("ppe.queue.help"))
    return [Reply("\n".join(lines), buttons)]


@button("ppe.show", role="ppe_coordinator", private=True)
async def show(ctx: Context, request_id: int) -> list[Reply]:
    """One request with the stock of its items and what can be done with it now."""
    request = await ppe.get_request(ctx.db, request_id)
    if request is None:
        return [Reply(ctx.t("ppe.not_found"))]
    levels = await ppe.stock(ctx.db, [line.item for line in request.lines])
    text = ctx.t(
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


@command("ppeapprove", help_key="help.cmd.ppeapprove", role="ppe_coordinator", private=True)
async def approve_command(ctx: Context, args: str = "") -> list[Reply]:
    """/ppeapprove N [ITEM QTY ...]: all that was asked, or the given pieces per item."""
    words = args.split()
    request_id = ppe_input.request_id(words[0]) if words else None
    if request_id is None:
        return [Reply(ctx.t("ppe.usage.approve"))]
    try:
        allocation = ppe_input.allocation_pairs(words[1:]) if len(words) > 1 else None
    except Invalid as invalid:
        bad = explain(ctx, invalid)
        return [Reply(ctx.t(bad.key, **bad.values))]
    return await allocate(ctx, request_id, allocation)


@button("ppe.approve", role="ppe_coordinator", private=True)
async def approve_button(ctx: Context, request_id: int) -> list[Reply]:
    """Approve everything the request asks for."""
    return await allocate(ctx, request_id, None)


async def parse_allocation(ctx: Context, text: str) -> dict[str, int]:
    """The part-allocation slot: 'ffp2_mask 100 gloves 500' (pieces)."""
    try:
        allocation = ppe_input.allocation_pairs(text.split())
    except Invalid as invalid:
        raise explain(ctx, invalid) from None
    request = await ppe.get_request(ctx.db, _form_args(ctx).get("request_id", 0))
    problem = allocation_problem(ctx, request, allocation) if request else None
    if problem is not None:
        raise problem
    return allocation


class PartForm(Form):
    """Allocate part of a request: pieces per item."""

    name = "ppe.part"
    confirm = False
    slots: ClassVar[list[Slot]] = [Slot("allocation", "ppe.ask_allocation", parse=parse_allocation)]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Allocate (everything re-checked against the request's current state)."""
        if not ctx.has_role("ppe_coordinator"):
            return ctx.refuse("ppe_coordinator")
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
    slots: ClassVar[list[Slot]] = [
        Slot("reason", "ppe.ask_reason", parse=free_text(500, min_length=3))
    ]

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Reject (the request's state re-checked)."""
        if not ctx.has_role("ppe_coordinator"):
            return ctx.refuse("ppe_coordinator")
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


@button("ppe.delivered", role="ppe_coordinator", private=True)
async def delivered(ctx: Context, request_id: int) -> list[Reply]:
    """Mark an approved request delivered."""
    request = await ppe.get_request(ctx.db, request_id, lock=True)
    if request is None:
        return [Reply(ctx.t("ppe.not_found"))]
    if request.status != ppe.APPROVED:
        return [Reply(stale_text(ctx.t, request))]
    await ppe.set_status(ctx.db, request, ppe.DELIVERED)
    await tell_requester(ctx, request)
    return [Reply(ctx.t("ppe.delivered", number=request.number))]


def _quantity_limit(ctx: Context, item: str, qty: int) -> Reply | None:
    if qty == 0:
        return Reply(ctx.t("ppe.bad.zero"))
    if abs(qty) > ctx.config.ppe.max_packs * ITEMS[item].pack_size:
        return Reply(
            ctx.t("ppe.bad.absurd", item=item_name(ctx.t, item), max=ctx.config.ppe.max_packs)
        )
    return None


@command("ppesupply", help_key="help.cmd.ppesupply", role="ppe_coordinator")
async def supply(ctx: Context, args: str = "") -> list[Reply]:
    """/ppesupply ITEM QTY SOURCE: incoming stock (purchase, donation, local_makers)."""
    words = args.split()
    if len(words) < 3:
        return [Reply(ctx.t("ppe.usage.supply"))]
    item, qty, source = (
        ppe_input.item_key(words[0]),
        ppe_input.signed_int(words[1]),
        ppe_input.source_key(words[2]),
    )
    if item is None:
        bad = explain(ctx, Invalid("ppe.bad.unknown_item"))
        return [Reply(ctx.t(bad.key, **bad.values))]
    if qty is None or source is None:
        return [Reply(ctx.t("ppe.usage.supply"))]
    if qty < 0:
        return [Reply(ctx.t("ppe.bad.negative"))]
    problem = _quantity_limit(ctx, item, qty)
    if problem:
        return [problem]
    note = " ".join(words[3:])[:300] or None
    levels = await ppe.record_movements(
        ctx.db, {item: qty}, kind=ppe.SUPPLY, source=source, reason=note, user_id=ctx.user.id
    )
    await ppe.crossed_low(ctx.db, levels, ctx.config.ppe.low_stock)
    return [
        Reply(
            ctx.t(
                "ppe.supplied",
                item=pieces_text(ctx.t, ctx.lang, item, qty),
                source=ctx.t(f"ppe.source.{source}"),
                stock=number(ctx.lang, levels[item]),
            )
        )
    ]


@command("ppecorrect", help_key="help.cmd.ppecorrect", role="ppe_coordinator")
async def correct(ctx: Context, args: str = "") -> list[Reply]:
    """/ppecorrect ITEM ±QTY REASON: a stock correction (count, breakage, expiry)."""
    words = args.split()
    if len(words) < 3:
        return [Reply(ctx.t("ppe.usage.correct"))]
    item, qty = ppe_input.item_key(words[0]), ppe_input.signed_int(words[1])
    reason = " ".join(words[2:])
    if item is None:
        bad = explain(ctx, Invalid("ppe.bad.unknown_item"))
        return [Reply(ctx.t(bad.key, **bad.values))]
    if qty is None or len(reason) < 3:
        return [Reply(ctx.t("ppe.usage.correct"))]
    problem = _quantity_limit(ctx, item, qty)
    if problem:
        return [problem]
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


# ---- notifications ------------------------------------------------------------------------


def compose_change(t: Translate, lang: str, request: PPERequest) -> list[Reply]:
    """What the requester is told when their request changes."""
    return [
        Reply(
            t("ppe.changed", number=request.number) + "\n" + status_line(t, lang, request),
            [Button(t("ppe.button.status"), "ppe.status")],
        )
    ]


async def tell_requester(ctx: Context, request: PPERequest) -> None:
    """Queue the change of a request for the person who asked (once per state)."""
    if request.requested_by is None:
        return
    from storage.users import User

    user = await ctx.db.get(User, request.requested_by)
    lang = user.language if user else "de"
    await notify(
        ctx.db,
        request.requested_by,
        lambda t: compose_change(t, lang, request),
        dedup_key=f"ppe:change:{request.id}:{request.status}",
    )


def compose_urgent(t: Translate, request: PPERequest) -> list[Reply]:
    """An urgent request, for the coordinators."""
    items = ", ".join(f"{line.requested} {item_name(t, line.item)}" for line in request.lines)
    return [
        Reply(
            t(
                "ppe.urgent_new",
                number=request.number,
                department=request.department.name,
                items=items,
            ),
            [Button(t("ppe.button.open"), payload("ppe.show", request.id))],
        )
    ]


def compose_low(t: Translate, item: str, level: int, limit: int) -> list[Reply]:
    """An item fell below its low-stock threshold."""
    return [Reply(t("ppe.low_stock", item=item_name(t, item), stock=level, limit=limit))]


async def warn_low_stock(ctx: Context, levels: dict[str, int]) -> None:
    """Tell the coordinators once about each item that just fell below its threshold."""
    limits = ctx.config.ppe.low_stock
    for item in await ppe.crossed_low(ctx.db, levels, limits):
        stamp = await ppe.last_movement_id(ctx.db, item)
        for user_id in await ppe.coordinator_ids(ctx.db):
            await notify(
                ctx.db,
                user_id,
                lambda t, i=item: compose_low(t, i, levels[i], limits[i]),
                dedup_key=f"ppe:low:{item}:{stamp}:{user_id}",
            )


def compose_summary(t: Translate, ordered: list[PPERequest], approved: int) -> list[Reply]:
    """The daily queue summary for coordinators."""
    urgent = sum(r.urgency == ppe.URGENT for r in ordered)
    lines = [t("ppe.summary_daily", count=len(ordered), urgent=urgent, approved=approved)]
    lines += [f"{n}. {r.number} · {r.department.name}" for n, r in enumerate(ordered[:5], 1)]
    return [Reply("\n".join(lines), [Button(t("ppe.button.queue"), "ppe.queue")])]


@recurring(
    "ppe_queue_summary",
    lambda c: CronTrigger(
        hour=int(c.ppe.summary_time[:2]), minute=int(c.ppe.summary_time[3:]), timezone=c.city.tz
    ),
)
async def daily_summary() -> int:
    """Daily: tell every coordinator how many requests wait (nothing when none do)."""
    app = runtime()
    today_text = utcnow().astimezone(app.config.city.tz).date().isoformat()
    async with app.sessions() as db, db.begin():
        return await send_summary(db, app.config, today_text)


async def send_summary(db: Any, config: Any, stamp: str, now: datetime | None = None) -> int:
    """Queue the queue summary for every coordinator (once per stamp); returns how many."""
    submitted = await ppe.open_requests(db, ppe.SUBMITTED)
    approved = await ppe.open_requests(db, ppe.APPROVED)
    if not submitted and not approved:
        return 0
    left = await ppe.days_of_stock_left(
        db, [r.department_id for r in submitted], config.ppe.consumption_days, now
    )
    ordered = ppe.by_priority(submitted, left)
    sent = 0
    for user_id in await ppe.coordinator_ids(db):
        sent += await notify(
            db,
            user_id,
            lambda t: compose_summary(t, ordered, len(approved)),
            dedup_key=f"ppe:summary:{stamp}:{user_id}",
        )
    return sent
