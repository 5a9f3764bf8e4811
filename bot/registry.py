"""Where handlers declare the intents, commands, buttons and deep links they serve."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bot.context import Context
    from bot.messages import Reply

Handler = Callable[..., Awaitable[list["Reply"]]]
OrgName = Callable[[Any, str], Awaitable[str | None]]  # (db, org) -> its name; None: unknown
Roles = str | tuple[str, ...] | None  # a route's role, or roles of which one suffices
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # ids are INTEGER columns (32 bits on PostgreSQL)
DECIMAL = re.compile(r"-?[0-9]{1,10}")


class BadArguments(ValueError):
    """A button or deep link carried arguments its handler cannot take."""


@dataclass
class Route:
    """A registered handler and how to convert its string arguments."""

    handler: Handler
    converters: list[Callable[[str], Any]]
    required: int
    role: Roles = None
    private: bool = False
    by_number: bool = True  # a button: a typed item number on a list page may press it
    answers_where: bool = False  # an intent: "wo ist die?" right after its answer is for it
    follow_ups: bool = False  # an intent: "und morgen?", "in der nordstadt" narrow its answer

    @property
    def name(self) -> str:
        """The handler's module and name: one request, whichever way (intent, command) it came."""
        return f"{self.handler.__module__}.{self.handler.__qualname__}"

    async def __call__(self, ctx: Context, raw_args: list[str]) -> list[Reply]:
        """Call the handler with its arguments converted (BadArguments if they do not fit).

        This is the one place where a route's declared role is checked: a user without it
        gets the refusal, whatever way (command, button, intent, deep link) they came.
        A private route marks the turn's answer as personal (see Context.private).
        """
        if self.role is not None and not ctx.has_role(self.role):
            return ctx.refuse(self.role)
        ctx.route = self.name
        if self.private:
            ctx.private = True
        if len(raw_args) < self.required:
            raise BadArguments("missing arguments")
        try:
            args = [conv(raw) for conv, raw in zip(self.converters, raw_args, strict=False)]
        except (TypeError, ValueError) as exc:
            raise BadArguments(str(exc)) from None
        return await self.handler(ctx, *args)


def to_int(raw: str) -> int:
    """An int argument from a button or link: ASCII digits that fit an INTEGER column.

    Anything else (99999999999999999999, '١', ' 5') is a ValueError, so a forged id is
    refused as a bad argument before it can overflow a database driver.
    """
    if not DECIMAL.fullmatch(raw):
        raise ValueError("not a decimal integer")
    value = int(raw)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError("integer out of range")
    return value


def _route(
    handler: Handler, role: Roles = None, private: bool = False, by_number: bool = True
) -> Route:
    hints = typing.get_type_hints(handler)
    params = list(inspect.signature(handler).parameters.values())[1:]
    converters: list[Callable[[str], Any]] = []
    required = 0
    for param in params:
        if param.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            continue
        hint = hints.get(param.name, str)
        converters.append(to_int if hint is int else str)
        required += param.default is inspect.Parameter.empty
    return Route(handler, converters, required, role, private, by_number)


@dataclass(frozen=True)
class MenuEntry:
    """A service's entry in the greeting menu: button label key, payload, sort order."""

    label: str
    payload: str
    order: int


@dataclass
class Registry:
    """All routes of the bot, filled by the decorators below at import time."""

    intents: dict[str, Route] = field(default_factory=dict)
    commands: dict[str, Route] = field(default_factory=dict)
    buttons: dict[str, Route] = field(default_factory=dict)
    deep_links: dict[str, Route] = field(default_factory=dict)
    command_help: dict[str, str] = field(default_factory=dict)
    menu: list[MenuEntry] = field(default_factory=list)
    payment_checks: dict[str, Handler] = field(default_factory=dict)
    org_names: dict[str, OrgName] = field(default_factory=dict)
    payments_received: dict[str, Handler] = field(default_factory=dict)

    def routes(self) -> list[tuple[str, str, Route]]:
        """Every route as (kind, name, route); kind is intent, command, button or deep_link."""
        tables = {
            "intent": self.intents,
            "command": self.commands,
            "button": self.buttons,
            "deep_link": self.deep_links,
        }
        return [
            (kind, name, route) for kind, table in tables.items() for name, route in table.items()
        ]

    def commands_for(self, holds: Callable[[str | tuple[str, ...]], bool]) -> list[tuple[str, str]]:
        """(name, help key) of each command with help that needs no role or one that holds()."""
        return [
            (name, key)
            for name, key in self.command_help.items()
            if self.commands[name].role is None or holds(self.commands[name].role)
        ]

    def _add(
        self,
        table: dict[str, Route],
        names: tuple[str, ...],
        handler: Handler,
        role: str | None = None,
        private: bool = False,
        by_number: bool = True,
        answers_where: bool = False,
        follow_ups: bool = False,
    ) -> None:
        for name in names:
            if name in table:
                raise ValueError(f"{name!r} is registered twice")
            table[name] = replace(_route(handler, role, private, by_number),
                                  answers_where=answers_where, follow_ups=follow_ups)


registry = Registry()


def intent(
    *names: str,
    role: Roles = None,
    private: bool = False,
    answers_where: bool = False,
    follow_ups: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler for NLU intents.

    role: the role the route needs, or a tuple of roles of which one suffices (checked in
    Route.__call__, admins hold every role; a coordinator's words read as a requester's
    intent reach the handler with role=("ppe_requester", "ppe_coordinator"));
    private: its answers carry personal data and go to the user's private chat only;
    answers_where: its answer shows a place, so a question where it is right after it ("wo ist
    die?", "how do i get there?", bot/follow_up.py) comes to this handler again;
    follow_ups: its answer is a search that a short follow-up naming a day, a district or a
    kind of job narrows ("und morgen?", "in der nordstadt", bot/follow_up.py) – no other
    request is continued (an erasure or an export must never be asked for by "und morgen?").
    """

    def register(handler: Handler) -> Handler:
        registry._add(registry.intents, names, handler, role, private,
                      answers_where=answers_where, follow_ups=follow_ups)
        return handler

    return register


def command(
    *names: str, help_key: str | None = None, role: str | None = None, private: bool = False
) -> Callable[[Handler], Handler]:
    """Register a handler for /commands; it gets the text after the command as one argument.

    role and private as for intent().
    """

    def register(handler: Handler) -> Handler:
        registry._add(registry.commands, names, handler, role, private)
        if help_key:
            registry.command_help[names[0]] = help_key
        return handler

    return register


def button(
    action: str, role: str | None = None, private: bool = False, by_number: bool = True
) -> Callable[[Handler], Handler]:
    """Register a handler for button presses with payload 'action' or 'action:arg:...'.

    role and private as for intent(). by_number=False for an action that cannot be undone
    (close, delete, unfollow): a bare item number typed on a list page whose item's first
    action it is does not press it but asks to confirm (bot/listing.py).
    """

    def register(handler: Handler) -> Handler:
        registry._add(registry.buttons, (action,), handler, role, private, by_number)
        return handler

    return register


def deep_link(
    prefix: str, role: str | None = None, private: bool = False
) -> Callable[[Handler], Handler]:
    """Register a handler for start payloads 'prefix-arg' (e.g. Telegram ?start=job-123).

    role and private as for intent().
    """

    def register(handler: Handler) -> Handler:
        registry._add(registry.deep_links, (prefix,), handler, role, private)
        return handler

    return register


def payment(prefix: str, on: Literal["check", "paid"]) -> Callable[[Handler], Handler]:
    """Register a payment handler for invoice payloads 'prefix:...'.

    on="check": handler(ctx, payment) before the user pays; [] accepts, [Reply(reason)] refuses.
    on="paid": handler(ctx, payment) once per received payment; its replies go to the payer.
    """

    def register(handler: Handler) -> Handler:
        table = registry.payment_checks if on == "check" else registry.payments_received
        if prefix in table:
            raise ValueError(f"{prefix!r} is registered twice")
        table[prefix] = handler
        return handler

    return register


def org_name(role: str) -> Callable[[OrgName], OrgName]:
    """Register how an organisation of an org-bound role is named ("cafe-rosa" -> "Café Rosa";
    None for one that does not exist): claims and /roles say the name, and an invite for an
    organisation that does not exist is refused."""

    def register(namer: OrgName) -> OrgName:
        registry.org_names[role] = namer
        return namer

    return register


async def org_label(db: Any, role: str, org: str) -> str | None:
    """The organisation's name for the role (itself where no service names it; None: unknown)."""
    namer = registry.org_names.get(role)
    return org if namer is None else await namer(db, org)


def menu_entry(label: str, action: str, order: int = 50) -> None:
    """Offer a service in the greeting menu (label is a message key)."""
    if all(entry.payload != action for entry in registry.menu):
        registry.menu.append(MenuEntry(label, action, order))
        registry.menu.sort(key=lambda entry: entry.order)


def payload(action: str, *args: object) -> str:
    """Build a button payload from an action and its arguments."""
    return ":".join([action, *(str(a) for a in args)])


def split_payload(data: str) -> tuple[str, list[str]]:
    """The action and arguments of a button payload."""
    action, *args = data.split(":")
    return action, args
