"""A short follow-up ("und morgen?", "and on sunday?") goes to the request answered just before."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.context import Context
from bot.registry import Registry, Route
from storage.base import utcnow

STATE_KEY = "last_request"  # state: the intent of the last request answered, and when
MEMORY = timedelta(minutes=30)
FRESH = timedelta(minutes=1)  # the same request again sooner: its time is not rewritten
MAX_WORDS = 6
SMALL_TALK = "handlers.core"  # greetings, thanks, yes/no, help, not understood: no request
# how a follow-up begins: "und morgen?", "and on sunday?", "what about hörde?"
_FOLLOW_UP = re.compile(
    r"^\W*(?:und|aber|auch|and|but|also|what about|how about|und was ist mit|was ist mit)\b",
    re.IGNORECASE,
)


def small_talk(route: Route | None) -> bool:
    """Whether a route is no request of a service (the platform's greetings, yes/no, help)."""
    return route is None or route.handler.__module__ == SMALL_TALK


def remember(ctx: Context, intent: str, route: Route | None) -> None:
    """Keep a service's request intent as the one a follow-up may continue (the same intent
    again within a minute leaves the state as it is: no write for it)."""
    if small_talk(route):
        return
    now, last = utcnow(), ctx.state.get(STATE_KEY) or {}
    if last.get("intent") == intent and now - _at(last) < FRESH:
        return
    ctx.state[STATE_KEY] = {"intent": intent, "at": now.isoformat()}


def _at(last: dict[str, str]) -> datetime:
    """When the request was remembered (long ago when the state has no time)."""
    return datetime.fromisoformat(last["at"]) if last.get("at") else datetime.min.replace(
        tzinfo=UTC)


def continued(ctx: Context, routes: Registry, text: str, intent: str) -> str | None:
    """The last request's intent when a short follow-up ("und morgen?") was read as small talk
    or not understood (the NLU has no context: "and tomorrow?" read as goodbye); else None."""
    if len(text.split()) > MAX_WORDS or not _FOLLOW_UP.match(text):
        return None
    if not small_talk(routes.intents.get(intent)):
        return None
    last = ctx.state.get(STATE_KEY) or {}
    if not last or utcnow() - _at(last) > MEMORY:
        return None
    return str(last["intent"])


def read_as(ctx: Context, intent: str) -> None:
    """The message's reading made the continued request's: every entity the NLU found counts
    (it kept only those of the small talk it had read)."""
    if ctx.parse is not None:
        found = ctx.parse.get("candidate_entities", ctx.parse["entities"])
        ctx.parse = {**ctx.parse, "intent": {"name": intent, "confidence": 1.0}, "entities": found}
