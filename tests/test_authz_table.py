"""Authorisation table: every privileged route × every role, by every way a route is reached.

The routes come from the registry, so a new service's privileged routes are checked here
without changing this file: a user without the route's role gets the refusal and nothing
changes; a forged button changes nothing for anyone; object routes (listed in
OBJECT_ROUTES) act only on objects of the user's own organisation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import handlers
from bot.app import App
from bot.dispatcher import Dispatcher
from bot.i18n import translator
from bot.messages import Reply
from bot.registry import Route, payload, registry, to_int
from storage import jobs
from storage.jobs import JobPosting
from storage.users import get_or_create_user
from tests.personas import (
    INTERNAL_ERRORS,
    ORG_A,
    PERSONAS,
    Persona,
    admin_refusal,
    event,
    fingerprint,
    make_personas,
    press,
    refusal,
    role_names,
    signed,
)

handlers.load_all()
PRIVILEGED = sorted((kind, name) for kind, name, route in registry.routes() if route.role)
EXPIRED = translator("en")("button.expired")


class IntentIsText:
    """An NLU stand-in: the text is the intent's name (reaches every intent route)."""

    async def parse(self, text: str, lang: str | None = None) -> dict[str, Any]:
        """The text as intent, with full confidence and no entities."""
        intent = {"name": text, "confidence": 1.0}
        return {"text": text, "intent": intent, "intent_ranking": [intent], "entities": []}

    def language_guess(self, text: str) -> tuple[str, float] | None:
        """No language guesses (the users keep theirs)."""
        return None


async def open_job_of_org_a(app: App) -> list[str]:
    """A fresh open posting of organisation A, as the argument of a route."""
    async with app.sessions() as db, db.begin():
        employer = await jobs.get_or_create_employer(db, ORG_A)
        job = await jobs.post_job(
            db,
            employer,
            title="Pflegehilfskraft (m/w/d)",
            field="nursing",
            employment_type="part_time",
            district="Nordstadt",
            description="Unterstützung des Pflegeteams auf Station.",
            contact="jobs@klinikum-nord.example",
            created_by=None,
        )
        return [str(job.id)]


# Routes that act on one object of an organisation: how to make such an object of org A,
# and the organisation-bound role whose organisation must own it. A new service adds its
# object routes here (everything else about its routes is checked without an entry).
OBJECT_ROUTES: dict[str, tuple[Callable[[App], Awaitable[list[str]]], str]] = {
    "job.close": (open_job_of_org_a, ORG_A),
}


def generic_args(route: Route) -> list[str]:
    """Arguments that fit the route's converters (an id that exists in the demo data)."""
    return ["1" if conv is to_int else "x" for conv in route.converters[: route.required]]


async def reach(
    app: App, dispatcher: Dispatcher, kind: str, name: str, user: str, chat: str, args: list[str]
) -> list[Reply]:
    """Call a route the way a user reaches it: command, intent text, button, deep link."""
    if kind == "command":
        return await dispatcher.handle(
            event(user, chat, kind="command", text=f"/{name} {' '.join(args)}".strip())
        )
    if kind == "intent":
        return await dispatcher.handle(event(user, chat, text=name))
    if kind == "button":
        data = signed(app, chat, payload(name, *args))
        return await dispatcher.handle(event(user, chat, kind="button", payload=data))
    link = "-".join([name, *(args or ["1"])])
    return await dispatcher.handle(event(user, chat, kind="command", text=f"/start {link}"))


def allowed(persona: Persona, route: Route, owner: str | None) -> bool:
    """Whether the persona may use the route (on an object of the owner organisation)."""
    assert route.role is not None
    if not persona.holds(route.role):
        return False
    orgs = [org for role, org in PERSONAS[persona.name] if role in role_names(route.role)]
    return owner is None or owner in orgs


def test_the_table_covers_the_privileged_routes():
    assert {
        ("intent", "post_job"),
        ("command", "postjob"),
        ("command", "myjobs"),
        ("button", "job.mine"),
        ("button", "job.close"),
        ("command", "applications"),
        ("command", "invite"),
    } <= set(PRIVILEGED)


@pytest.mark.parametrize(("kind", "name"), PRIVILEGED)
async def test_a_privileged_route_is_allowed_only_for_its_role_and_organisation(app, kind, name):
    table = {"intent": registry.intents, "command": registry.commands}
    table |= {"button": registry.buttons, "deep_link": registry.deep_links}
    route = table[kind][name]
    assert route.role is not None
    personas = await make_personas(app)
    dispatcher = Dispatcher(app.sessions, app.config, IntentIsText())
    make_object, owner = OBJECT_ROUTES.get(name, (None, None))
    for number, persona in enumerate(personas.values()):
        user = persona.name if persona.name != "none" else f"none-{name}"
        chat = f"{user}-{kind}-{number}"  # a new chat: no open form from an earlier turn
        args = await make_object(app) if make_object else generic_args(route)
        may = allowed(persona, route, owner)
        before = await fingerprint(app)
        replies = await reach(app, dispatcher, kind, name, user, chat, args)
        texts = [r.text for r in replies]
        where = f"{kind} {name} as {persona.name}"
        assert replies and not INTERNAL_ERRORS & set(texts), where
        if not persona.holds(route.role):
            assert texts == [refusal(route.role)], where
        if not may:
            assert await fingerprint(app) == before, f"{where} changed data"
            if owner is not None:
                admin = "admin" in persona.roles
                expected = admin_refusal(route.role) if admin else refusal(route.role)
                assert texts[0] == expected, where
        else:
            assert refusal(route.role) not in texts, where
            if make_object:
                assert await fingerprint(app) != before, f"{where} did nothing"
        if kind == "button":
            before = await fingerprint(app)
            forged = await press(app, user, payload(name, *args), chat, forged=True)
            assert [r.text for r in forged] == [EXPIRED], f"forged {where}"
            assert await fingerprint(app) == before, f"forged {where} changed data"


async def test_an_old_button_pressed_after_the_role_was_taken_away_is_refused(app):
    await make_personas(app)
    args = await open_job_of_org_a(app)
    close = payload("job.close", *args)
    old = signed(app, "employer_a", close)  # offered while employer_a was an employer
    async with app.sessions() as db, db.begin():
        user, _ = await get_or_create_user(db, "console", "employer_a", language="en")
        for grant in list(user.roles):
            await db.delete(grant)
    replies = await app.dispatcher.handle(event("employer_a", kind="button", payload=old))
    assert [r.text for r in replies] == [refusal("employer")]
    async with app.sessions() as db:
        assert (await db.get(JobPosting, int(args[0]))).status == jobs.OPEN


async def test_an_employer_closes_their_own_posting_once(app):
    await make_personas(app)
    args = await open_job_of_org_a(app)
    first = await press(app, "employer_a", payload("job.close", *args))
    assert "closed" in first[0].text
    again = await press(app, "employer_a", payload("job.close", *args))
    assert again[0].text == translator("en")("jobs.closed"), "a stale button changes nothing"
