"""A short follow-up ("und morgen?", "and on sunday?") goes to the request answered just before."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.context import Context
from bot.registry import Registry, Route
from storage.base import utcnow

CONTINUED = "follow_up"  # set in a turn's reading when it continues the request before
STATE_KEY = "last_request"  # state: the intent of the last request answered, and when
MEMORY = timedelta(minutes=30)
FRESH = timedelta(minutes=1)  # the same request again sooner: its time is not rewritten
MAX_WORDS = 6
NOT_UNDERSTOOD = "nlu_fallback"
SMALL_TALK = "handlers.core"  # greetings, thanks, yes/no, help, not understood: no request
# how a follow-up begins: "und morgen?", "and on sunday?", "what about hörde?"
_FOLLOW_UP = re.compile(
    r"^\W*(?:und|aber|auch|and|but|also|what about|how about|und was ist mit|was ist mit"
    r"|wie w(?:ä|ae)re es mit|wie w(?:ä|ae)rs mit|wie sieht(?: es|'s) (?:aus )?mit)\b",
    re.IGNORECASE,
)
# a follow-up that narrows by its first word: "nur in hörde", "only in hörde", "just the ones
# in hörde pls" – only where it names nothing but a district, day or kind of job
_ONLY = re.compile(r"^\W*(?:nur|bloß|bloss|only|just)\b", re.IGNORECASE)
# what a follow-up may name to narrow the request before: a district, a day, a kind of job –
# not a shop or school, which is a new request of its own ("und café rosa?" after jobs)
NARROWING = frozenset({"location", "time", "employment_type"})
# words around such names that ask nothing of their own: "und in der nordstadt?"
_FILLER = frozenset({
    "in", "im", "der", "die", "das", "dem", "den", "am", "an", "um", "auf", "für", "fuer",
    "mit", "bei", "beim", "zum", "zur", "vom", "von", "nur", "denn", "dann", "noch", "bitte",
    "auch", "da", "dort", "es", "so", "the", "on", "at", "for", "with", "of", "to", "only",
    "then", "please", "there", "ones", "one", "those", "these", "pls", "plz",
})
_WORD = re.compile(r"[\w']+")
# a question where the thing just shown is, naming nothing else: "wo ist die?", "what's the
# address?" – "wo ist das rathaus" names a place of its own
_WHERE = frozenset({"wo", "wohin", "adresse", "anschrift", "hin", "dahin", "dorthin", "where",
                    "address", "located", "there"})
_WHERE_WORDS = _WHERE | frozenset({
    "ist", "sind", "die", "der", "das", "denn", "genau", "finde", "findet", "ich", "man", "liegt",
    "liegen", "wie", "lautet", "komme", "kommt", "kommen", "da", "dort", "sie", "es", "deren",
    "dessen", "ihre", "seine", "bitte", "nochmal", "the", "is", "it", "are", "they", "them",
    "what", "what's", "whats", "how", "do", "i", "get", "there", "find", "can", "exactly",
    "their", "its", "please", "again", "ja", "yes", "ok", "okay", "super", "danke", "thanks",
})


def begins_as_follow_up(text: str) -> bool:
    """Whether a message begins the way a follow-up does ("und teilzeit?", "nur in hörde",
    "what about hörde?", "wie wäre es mit …")."""
    return bool(_FOLLOW_UP.match(text) or _ONLY.match(text))


def small_talk(route: Route | None) -> bool:
    """Whether a route is no request of a service (the platform's greetings, yes/no, help)."""
    return route is None or route.handler.__module__ == SMALL_TALK


def remember(ctx: Context, intent: str, route: Route | None) -> None:
    """Keep a service's request intent as the one a follow-up may continue (the same intent
    again within a minute leaves the state as it is: no write for it)."""
    if small_talk(route):
        return
    last = ctx.state.get(STATE_KEY) or {}
    if last.get("intent") != intent or stale(last.get("at"), FRESH):
        ctx.state[STATE_KEY] = {"intent": intent, "at": utcnow().isoformat()}


def stale(at: str | None, age: timedelta) -> bool:
    """Whether a time kept in the state (ISO text) is older than age, or missing. A request
    repeated within FRESH keeps its time: a state that stays the same costs the turn no write
    (jobs' search memory does the same)."""
    return at is None or utcnow() - datetime.fromisoformat(at) > age


def continued(ctx: Context, routes: Registry, text: str, intent: str) -> str | None:
    """The last request's intent when a short follow-up ("und morgen?") was not understood, or
    read as small talk though it names something (a day, a place: the NLU has no context, "and
    tomorrow?" was a goodbye), or a not-understood question where it is ("wo ist die?");
    else None – "und danke!" stays thanks."""
    if len(text.split()) > MAX_WORDS:
        return None
    only = _ONLY.match(text)
    lead = _FOLLOW_UP.match(text) or only
    read_as_small_talk = small_talk(routes.intents.get(intent))
    where = read_as_small_talk and asks_where_it_is(text)  # "how do i get there?" was help
    found = (ctx.parse or {}).get("candidate_entities", (ctx.parse or {}).get("entities")) or []
    if lead is None and not where and not found:  # "in der nordstadt", "hörde": names only
        return None
    last = ctx.state.get(STATE_KEY) or {}
    if not last or stale(last.get("at"), MEMORY):
        return None
    named_only = names_only(text, lead.end() if lead else 0, found)  # lead is only, if it matched
    if only is not None and not named_only:
        return None  # "nur mal eine frage", "just checking": nothing named to narrow by
    before = routes.intents.get(str(last["intent"]))
    if where:  # "wo ist das?" after a job search: no place was shown
        return str(last["intent"]) if before is not None and before.answers_where else None
    if before is None or not before.follow_ups:
        return None  # "und morgen?" after the privacy answer: no export again
    if read_as_small_talk:
        if lead is None and not named_only:  # "hörde", "in hörde bitte" read as small talk
            return None
        if intent != NOT_UNDERSTOOD and not found:  # "und danke!": said so
            return None
    elif intent == last["intent"] or not named_only:
        return None  # another service's request: "und einen gutschein vom café rosa?"
    return str(last["intent"])


def asks_where_it_is(text: str) -> bool:
    """Whether a message asks only where the thing just talked about is ("wo ist die?", "wie
    ist die adresse?", "how do i get there?"), naming nothing else."""
    words = _WORD.findall(text.lower())
    return bool(words) and any(w in _WHERE for w in words) and all(w in _WHERE_WORDS for w in words)


def names_only(text: str, lead_end: int, found: list[dict]) -> bool:
    """Whether the follow-up after its lead-in ("und") only names a district, a day or a kind
    of job, with small words around them: "und in der nordstadt?" narrows a job search the
    NLU, without context, read as a request for the shops there."""
    if not found or any(entity["entity"] not in NARROWING for entity in found):
        return False
    rest = list(text)
    for entity in found:
        rest[entity["start"] : entity["end"]] = " " * (entity["end"] - entity["start"])
    words = _WORD.findall("".join(rest)[lead_end:].lower())
    return all(word in _FILLER for word in words)


def read_as(ctx: Context, intent: str) -> None:
    """The message's reading made the continued request's: every entity the NLU found counts
    (it kept only those of the small talk it had read)."""
    if ctx.parse is not None:
        found = ctx.parse.get("candidate_entities", ctx.parse["entities"])
        ctx.parse = {**ctx.parse, "intent": {"name": intent, "confidence": 1.0}, "entities": found,
                     CONTINUED: True}


def is_continued(ctx: Context) -> bool:
    """Whether this turn's message was read as a follow-up of the request before (read_as):
    a service may then narrow that request ("in der nordstadt" after a nursing search)."""
    return bool((ctx.parse or {}).get(CONTINUED))
