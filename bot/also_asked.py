"""A second request in the same message ("… und ich möchte einen Gutschein"): offered next."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot import forms
from bot.context import Context
from bot.follow_up import small_talk
from bot.messages import Button, Reply
from bot.registry import Registry

ACTION = "also"  # the button that asks the remembered request (handled by the dispatcher)
STATE_KEY = "also_asked"  # state: the remembered requests, while their button is offered
MIN_WORDS = 6  # a shorter message holds one request
PART_WORDS = 3  # "und verschenken", "and betreuung": part of the first request, not a second
MAX_PARTS = 3
SURE = 0.9  # each request must be read this surely
LABEL_CHARS = 40
# where one request ends and the next begins: a sentence's end, or "und"/"and"/"außerdem"
_BOUNDARY = re.compile(
    r"\s*(?:[;?!.]\s+|,?\s+(?:und|and|außerdem|ausserdem|zudem|also|plus)\s+(?:auch\s+|noch\s+)?)",
    re.IGNORECASE,
)
# words that only join a clause to the one before ("außerdem möchte ich …"): not the request
_JOINING = re.compile(r"^(?:(?:und|and|außerdem|ausserdem|zudem|also|auch|noch|dann|then|plus)"
                      r"\s+)+", re.IGNORECASE)


def parts_of(text: str) -> list[str]:
    """The message's clauses that are long enough to be a request each (none: one request)."""
    if len(text.split()) < MIN_WORDS or not _BOUNDARY.search(text):
        return []
    parts = [_JOINING.sub("", part.strip(" ,")) for part in _BOUNDARY.split(text)]
    if len(parts) > MAX_PARTS or any(len(part.split()) < PART_WORDS for part in parts):
        return []
    return parts


@dataclass(frozen=True)
class Split:
    """A message of several requests: the first to answer now (with its reading), the others
    next, in the message's order."""

    first: str
    reading: dict[str, Any]
    others: list[str]


async def split_requests(ctx: Context, routes: Registry, text: str) -> Split | None:
    """The message's requests, when it holds several: "ich suche eine stelle in der pflege und
    möchte einen gutschein vom café rosa kaufen" is a job search, then a voucher.

    Each clause must be read surely, by another intent of a route the user may use (a role
    route only with the role; greetings, thanks and the like are no request). The first in the
    message is answered first. None when the message holds one request.
    """
    if ctx.incoming.is_group:
        return None
    requests: list[tuple[str, dict[str, Any]]] = []
    for part in parts_of(text):
        reading = await ctx.understand(part)
        intent = reading["intent"]
        named = {r["intent"]["name"] for _, r in requests}
        if intent["confidence"] >= SURE and intent["name"] not in named and _askable(
                ctx, routes, intent["name"]):
            requests.append((part, reading))
    if len(requests) < 2:
        return None
    (first, reading), *others = requests
    return Split(first, reading, [part for part, _ in others])


def _askable(ctx: Context, routes: Registry, intent: str) -> bool:
    route = routes.intents.get(intent)
    if route is None or small_talk(route):
        return False
    return route.role is None or ctx.has_role(route.role)


def offer(ctx: Context, replies: list[Reply], requests: list[str]) -> list[Reply]:
    """The answer with a line naming the other requests: with a button that asks the next one,
    or, when a form now waits for its answer, with the advice to ask them afterwards."""
    named = ctx.t("also.joiner").join(requests)  # „A“ und „B“
    if forms.active_form(ctx) is not None:
        return _with(replies, ctx.t("also.after_form", request=named), None)
    ctx.state[STATE_KEY] = requests
    request = requests[0]
    label = request if len(request) <= LABEL_CHARS else request[: LABEL_CHARS - 1] + "…"
    return _with(replies, ctx.t("also.offer", request=named),
                 Button(ctx.t("also.button", request=label), ACTION))


def _with(replies: list[Reply], line: str, button: Button | None) -> list[Reply]:
    """The line (and button) added to the answer's last message, when it is one of text."""
    last = replies[-1] if replies else None
    buttons = [button] if button else []
    if last is None or last.image or last.file or last.invoice or last.venue:
        return [*replies, Reply(line, buttons)]
    joined = replace(last, text=f"{last.text}\n\n{line}", buttons=[*last.buttons, *buttons])
    return [*replies[:-1], joined]


def remembered(state: dict[str, Any]) -> list[str]:
    """The remembered requests, taken out of the state (the button asks the first once)."""
    kept = state.pop(STATE_KEY, None) or []
    return [kept] if isinstance(kept, str) else list(kept)


def forget_unless_offered(state: dict[str, Any]) -> None:
    """Drop the remembered request once its button is no longer among the offered ones."""
    offered = [*(state.get("buttons") or []), *(state.get("list_buttons") or [])]
    if STATE_KEY in state and not any(payload == ACTION for _, payload in offered):
        state.pop(STATE_KEY)
