"""Test users with every role (and two employers of different organisations), and helpers
to send them through the dispatcher: commands, texts, signed and forged button presses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.buttons import sign
from bot.i18n import translator
from bot.keys import load_secret
from bot.messages import Incoming, Reply
from storage.base import Base
from storage.users import RoleGrant, create_invite, get_or_create_user

ORG_A = "Klinikum Nord am Fredenbaum"
ORG_B = "Evangelisches Krankenhaus am Wall"
PERSONAS: dict[str, list[tuple[str, str | None]]] = {
    "none": [],  # first contact: the user does not exist yet
    "citizen": [],
    "employer_a": [("employer", ORG_A)],
    "employer_b": [("employer", ORG_B)],
    "shop_owner": [("shop_owner", "baeckerei-mueller")],  # shop id 1 of the demo data
    "school_staff": [("school_staff", "goethe-gymnasium")],
    "ppe_requester": [("ppe_requester", "feuerwehr")],
    "ppe_coordinator": [("ppe_coordinator", None)],
    "admin": [("admin", None)],
}
INTERNAL_ERRORS = {translator(lang)("error.internal") for lang in ("de", "en")}
VOLATILE_TABLES = {"processed_events", "conversation_states", "users", "identities"}
_events = itertools.count()


@dataclass(frozen=True)
class Persona:
    """A test user: the persona's name and the roles it was given."""

    name: str
    roles: tuple[str, ...]

    def holds(self, role: str | tuple[str, ...]) -> bool:
        """Whether the persona holds the role, or one of the roles (admins hold every role)."""
        return bool(set(role_names(role)) & set(self.roles)) or "admin" in self.roles


def role_names(role: str | tuple[str, ...]) -> tuple[str, ...]:
    """A route's role as a tuple: one role, or the roles of which one suffices."""
    return (role,) if isinstance(role, str) else role


async def make_personas(app: App, platform: str = "console") -> dict[str, Persona]:
    """Create the users of PERSONAS (except 'none') with their role grants."""
    async with app.sessions() as db, db.begin():
        for name, grants in PERSONAS.items():
            if name == "none":
                continue
            user, _ = await get_or_create_user(db, platform, name, language="en")
            for role, org in grants:
                db.add(RoleGrant(user_id=user.id, role=role, org=org))
    return {name: Persona(name, tuple(r for r, _ in grants)) for name, grants in PERSONAS.items()}


def refusal(role: str | tuple[str, ...], language: str = "en") -> str:
    """The text a user without the role gets (of several roles, the first is named)."""
    t = translator(language)
    return t("roles.refused", role=t(f"roles.{role_names(role)[0]}"))


def admin_refusal(role: str | tuple[str, ...], language: str = "en") -> str:
    """The text an admin gets for an organisation's object without a grant for it."""
    t = translator(language)
    return t("roles.admin_needs_org", role=t(f"roles.{role_names(role)[0]}"))


def event(user: str, chat: str | None = None, platform: str = "console", **fields: Any) -> Incoming:
    """An Incoming from user in chat (default: their private chat)."""
    return Incoming(
        platform=platform,
        chat_id=chat or user,
        user_id=user,
        event_id=f"persona-{next(_events)}",
        locale="en",
        **fields,
    )


def signed(app: App, chat: str, payload: str) -> str:
    """Callback data the bot would have offered in that chat."""
    return sign(load_secret(app.config), chat, payload)


async def press(
    app: App, user: str, payload: str, chat: str | None = None, *, forged: bool = False
) -> list[Reply]:
    """A button press: validly signed for the chat, or (forged) the bare payload."""
    chat = chat or user
    data = payload if forged else signed(app, chat, payload)
    return await app.dispatcher.handle(event(user, chat, kind="button", payload=data))


async def fingerprint(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that an action could change (not users, states, event ids)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with app.sessions() as db:
        for table in Base.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            result = await db.execute(select(table))
            rows[table.name] = sorted((tuple(map(repr, row)) for row in result), key=str)
    return rows


async def role_chat(app: App, chat_factory: Any, name: str, lang: str, role: str,
                    org: str | None = None) -> Any:
    """A console chat (tests.conftest.Chat) in a language that has claimed an invite for the
    role (and organisation)."""
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, role, org)).code
    chat = chat_factory(name, lang)
    await chat.say(f"/language {lang}")
    await chat.say(f"/claim {code}")
    return chat
