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

from datetime import date
from typing import Any, ClassVar

from bot import listing
from bot.context import Context
from bot.forms import Choice, Form, Invalid, Slot, form_args, form_values, free_text
from bot.listing import Item
from bot.messages import Button, Reply
from bot.registry import button, command, intent, org_name, payload
from handlers import ppe_input
from handlers.ppe_coordination import coordinator_words
from handlers.ppe_notify import alert_urgent, tell_requester, tell_withdrawn
from handlers.ppe_text import (
    day,
    explain,
    item_name,
    pieces_text,
    stale_text,
    status_line,
    today,
)
from storage import ppe
from storage.ppe import PPERequest

STATUS_SIZE = 10
NO_NOTE = {"-", "nein", "keine", "kein", "no", "none", "nothing", "nichts", "n/a"}
UNSURE_MASKS = "unsure_masks"  # form args: the answer that said "Masken" without the kind
WAITING_ITEM = "waiting_item"  # form args: the item whose quantity was asked for
LATER_ITEMS = "later_items"  # form args: further items said without a quantity, asked next
KEPT_ITEMS = "kept_items"  # form args: the items with quantities read while one is asked for
SIZES = "sizes"  # form args: sizes said ("Größe M"), which the catalogue has not: for the note
REQUESTER_OR_COORDINATOR = ("ppe_requester", "ppe_coordinator")


def remember_sizes(memo: dict[str, Any], text: str) -> None:
    """Keep the sizes a message names ("Handschuhe Größe M") for the note question, which
    says they cannot be requested and asks to write them there."""
    said = ppe_input.sizes_in(text)
    if said:
        earlier = memo[SIZES].split(", ") if memo.get(SIZES) else []
        memo[SIZES] = ", ".join(dict.fromkeys([*earlier, *said]))


async def parse_items(ctx: Context, text: str) -> list[list[Any]]:
    """The items slot: '200 FFP2-Masken, 2 Kartons Handschuhe' -> [[item, pieces], ...].

    After "which masks?" the kind alone ("FFP2") completes the answer before it; after "how
    many gloves?" a quantity alone ("200", "2 Kartons") counts gloves, added to the items
    read before.
    """
    args = form_args(ctx)
    unsure, waiting = args.pop(UNSURE_MASKS, None), args.pop(WAITING_ITEM, None)
    kept = {item: qty for item, qty in args.pop(KEPT_ITEMS, [])}
    still_open = [*([waiting] if waiting else []), *args.pop(LATER_ITEMS, [])]
    kind = ppe_input.item_key(text) if unsure else None
    if unsure and kind not in ppe.MASKS:
        kind = ppe_input.mask_kind(text, ppe_input.candidates(await ctx.understand()))
    if unsure and kind in ppe.MASKS:
        said, entities = unsure["text"], unsure["entities"]
        try:
            return read_items(ctx, args, said, entities, (kind,), kept, still_open)
        except Invalid as invalid:  # the kind chosen, no error: "Wie viele FFP2-Masken?" next
            if invalid.key == ppe_input.NO_QUANTITY:
                raise Invalid("ppe.kept", items=item_name(ctx.t, kind)) from None
            raise
    remember_sizes(args, text)
    entities = ppe_input.candidates(await ctx.understand())
    if waiting:
        entities = ppe_input.with_item(text, entities, waiting)
    return read_items(ctx, args, text, entities, kept=kept, still_open=still_open)


def read_items(
    ctx: Context,
    memo: dict[str, Any],
    text: str,
    entities: list[dict[str, Any]],
    masks: tuple[str, ...] = ppe.MASKS,
    kept: dict[str, int] | None = None,
    still_open: list[str] | None = None,
) -> list[list[Any]]:
    """items_in added to the items kept from earlier answers. What is left open (which masks,
    how many of which item) goes to memo with the items so far; the Invalid then says what
    was kept ("Notiert: 35 OP-Masken"), the form asks for the rest, one question at a time."""
    kept, still_open = dict(kept or {}), list(still_open or [])
    try:
        found = dict(ppe_input.items_in(text, entities, ctx.config.ppe.max_packs, masks))
    except Invalid as invalid:
        if invalid.key == ppe_input.WHICH_MASK:
            said = [{k: e[k] for k in ("entity", "value", "start", "end")} for e in entities]
            memo[UNSURE_MASKS] = {"text": text, "entities": said}
            _remember(memo, kept, still_open)
            raise explain(ctx, Invalid("ppe.mask_kinds", **invalid.values)) from None
        if invalid.key != ppe_input.NO_QUANTITY:
            _remember(memo, kept, still_open)
            raise explain(ctx, invalid) from None
        found = dict(invalid.values["found"])
        still_open = [*invalid.values["missing"], *still_open]
    kept.update(found)
    still_open = [item for item in dict.fromkeys(still_open) if item not in kept]
    if not still_open:
        return [[item, qty] for item, qty in kept.items()]
    _remember(memo, kept, still_open)
    if not kept:
        raise explain(ctx, Invalid(ppe_input.NO_QUANTITY, item=still_open[0]))
    listed = ", ".join(pieces_text(ctx.t, ctx.lang, item, qty) for item, qty in kept.items())
    raise Invalid("ppe.kept", items=listed)


def _remember(memo: dict[str, Any], kept: dict[str, int], still_open: list[str]) -> None:
    """Keep the items read so far and those still without a quantity for the next answer."""
    if kept:
        memo[KEPT_ITEMS] = [[item, qty] for item, qty in kept.items()]
    if still_open:
        memo[WAITING_ITEM], memo[LATER_ITEMS] = still_open[0], still_open[1:]


async def mask_choices(ctx: Context) -> list[Choice]:
    """The kinds of masks as buttons, while the items answer said only "Masken"."""
    if not form_args(ctx).get(UNSURE_MASKS):
        return []
    return [Choice(kind, f"ppe.item.{kind}") for kind in ppe.MASKS]


def check_date(ctx: Context, found: date | None) -> str:
    """A needed-by date as ISO text; Invalid when missing or in the past."""
    if found is None:
        raise Invalid("ppe.bad.date")
    if found < today(ctx):
        raise Invalid("ppe.bad.past", date=day(ctx.lang, found))
    return found.isoformat()


async def parse_needed_by(ctx: Context, text: str) -> str:
    """The needed-by slot: 'freitag', '12.12.', 'next monday', 'ende nächster woche'; 'so
    schnell wie möglich', 'asap', 'sofort' is today, and the request urgent."""
    parse = await ctx.understand()
    found = ppe_input.date_in(text, ppe_input.candidates(parse), today(ctx))
    if found is None and ppe_input.wanted_at_once(text):
        form_values(ctx).setdefault("urgency", ppe.URGENT)
        found = today(ctx)
    return check_date(ctx, found)



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


def _department_of(ctx: Context, values: dict[str, Any]) -> str:
    orgs = ctx.orgs("ppe_requester")
    return values.get("department") or (orgs[0] if orgs else "")


def _needs_address(ctx: Context, values: dict[str, Any]) -> bool:
    return not form_args(ctx).get("addresses", {}).get(_department_of(ctx, values))


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
        Slot("items", "ppe.ask_items", parse=parse_items, suggest=mask_choices),
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
    def question_text(
        cls, ctx: Context, slot: Slot, values: dict[str, Any], args: dict[str, Any]
    ) -> str:
        """The items question asks which masks while the answer said only "Masken", and how
        many of an item named without a quantity."""
        if slot.name == "items" and args.get(UNSURE_MASKS):
            return ctx.t("ppe.ask_mask_kind")
        if slot.name == "items" and args.get(WAITING_ITEM):  # "Wie viele Visiere?"
            item = args[WAITING_ITEM]
            example = pieces_text(ctx.t, ctx.lang, item, 20)
            return ctx.t("ppe.ask_quantity", item=item_name(ctx.t, item), example=example)
        if slot.name == "note" and args.get(SIZES):  # the sizes said, which are no item
            return ctx.t("ppe.ask_note_sizes", sizes=args[SIZES])
        return super().question_text(ctx, slot, values, args)

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
            await alert_urgent(ctx.db, request)
        return [
            Reply(
                ctx.t("ppe.submitted", number=request.number),
                [Button(ctx.t("ppe.button.status"), "ppe.status")],
            )
        ]


def coordinator_turn(ctx: Context) -> bool:
    """Whether words read as a requester's intent are a coordinator's: the user coordinates
    and requests for no department, or says clearly coordinator words ("genehmigen",
    "offene Anforderungen", "erhalten", "Spende"). Commands and buttons are never words."""
    if ctx.incoming.kind != "text" or not ctx.has_role("ppe_coordinator"):
        return False
    if not ctx.orgs("ppe_requester"):
        return True
    return ppe_input.coordinator_wish(ctx.incoming.text, clear_only=True) is not None


# the words reach coordinators too (one role suffices); /ppe and /ppestatus stay requesters'
@intent("request_ppe", role=REQUESTER_OR_COORDINATOR, private=True)
@command("ppe", help_key="help.cmd.ppe", role="ppe_requester", private=True)
async def request_ppe(ctx: Context, _args: str = "") -> list[Reply]:
    """Begin a request, filled with what the message already says; a coordinator's words
    ("approve request 12", "we received 500 ffp2 masks") get the coordinator's answer."""
    if coordinator_turn(ctx):
        return await coordinator_words(ctx)
    if not ctx.orgs("ppe_requester"):
        return ctx.refuse("ppe_requester")
    parse, text = ctx.parse, ctx.incoming.text if ctx.parse else ""
    if _args.strip():
        text = _args.strip()
        parse = await ctx.understand(text)
    entities = ppe_input.candidates(parse)
    values: dict[str, Any] = {}
    memo: dict[str, Any] = {}  # what the items left open: which masks, how many of what
    problems: list[Reply] = []
    said_items = any(e["entity"] in ("ppe_item", "quantity") for e in entities)
    if said_items or ppe_input.NEGATIVE.search(text) or ppe_input.WRITTEN_NUMBER.search(text):
        try:
            values["items"] = read_items(ctx, memo, text, entities)
        except Invalid as bad:
            # "which masks?" and "how many?" are the form's question; what was kept is said
            if UNSURE_MASKS not in memo and bad.key != ppe_input.NO_QUANTITY:
                problems.append(Reply(ctx.t(bad.key, **bad.values)))
    found = ppe_input.date_in("", entities, today(ctx))
    if found is None and text and ppe_input.wanted_at_once(text):  # "so schnell wie möglich"
        found = today(ctx)
    if found is not None:
        try:
            values["needed_by"] = check_date(ctx, found)
        except Invalid as invalid:
            problems.append(Reply(ctx.t(invalid.key, **invalid.values)))
    if text and ppe_input.is_urgent(text):
        values["urgency"] = ppe.URGENT
    remember_sizes(memo, text)
    return [*problems, *await ctx.start_form(RequestForm, values=values, **memo)]


@intent("ppe_status", role=REQUESTER_OR_COORDINATOR, private=True)
@command("ppestatus", help_key="help.cmd.ppestatus", role="ppe_requester", private=True)
async def ppe_status(ctx: Context, _args: str = "") -> list[Reply]:
    """My department's newest requests in one message; submitted ones can be withdrawn. A
    coordinator's words ("show open PPE requests") get the queue."""
    if coordinator_turn(ctx):
        return await coordinator_words(ctx, default=ppe_input.QUEUE)
    orgs = ctx.orgs("ppe_requester")
    if not orgs:
        return ctx.refuse("ppe_requester")
    found = await ppe.requests_of(ctx.db, orgs, STATUS_SIZE)
    if not found:
        return [Reply(ctx.t("ppe.status.none"))]
    withdraw = ctx.t("ppe.button.withdraw")
    items = [
        Item(
            status_line(ctx.t, ctx.lang, request),
            [Button(withdraw, payload("ppe.withdraw", request.id))]
            if request.status == ppe.SUBMITTED
            else [],
        )
        for request in found
    ]
    return [listing.page(ctx.t("ppe.status.title", count=len(found)), items, separator="\n")]


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


@button("ppe.withdraw", role="ppe_requester", private=True, by_number=False)
async def withdraw(ctx: Context, request_id: int) -> list[Reply]:
    """Withdraw a submitted request of the requester's department."""
    request = await _own_request(ctx, request_id)
    if isinstance(request, list):
        return request
    if request.status != ppe.SUBMITTED:
        return [Reply(stale_text(ctx.t, request))]
    await ppe.set_status(ctx.db, request, ppe.WITHDRAWN)
    await tell_withdrawn(ctx.db, request)
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


@org_name("ppe_requester")
async def department_org_name(_db: Any, key: str) -> str | None:
    """A requester's organisation is a department's key (made on first use): its name."""
    return ppe.department_name(key)
