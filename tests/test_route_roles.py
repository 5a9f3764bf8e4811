"""A route may declare several roles of which one suffices; the check stays in Route."""

from __future__ import annotations

from bot.app import App
from bot.context import Context
from bot.dispatcher import Dispatcher
from bot.messages import Reply
from bot.registry import Registry, _route
from storage.users import RoleGrant, get_or_create_user
from tests.personas import event, refusal
from tests.test_authz_table import IntentIsText


async def _reached(ctx: Context) -> list[Reply]:
    """The handler of the test route: says who reached it."""
    return [Reply(f"reached by {ctx.user.id}")]


async def test_either_role_reaches_the_route_and_neither_is_refused(app: App) -> None:
    routes = Registry()
    routes.intents["ask_ppe"] = _route(_reached, role=("ppe_requester", "ppe_coordinator"))
    async with app.sessions() as db, db.begin():
        for name, role in (("req", "ppe_requester"), ("coord", "ppe_coordinator")):
            user, _ = await get_or_create_user(db, "console", name, language="en")
            db.add(RoleGrant(user_id=user.id, role=role, org="feuerwehr"))
        await get_or_create_user(db, "console", "citizen", language="en")
    dispatcher = Dispatcher(app.sessions, app.config, IntentIsText(), routes)
    for name in ("req", "coord"):
        texts = [r.text for r in await dispatcher.handle(event(name, text="ask_ppe"))]
        assert texts and texts[0].startswith("reached by"), name
    texts = [r.text for r in await dispatcher.handle(event("citizen", text="ask_ppe"))]
    assert texts == [refusal("ppe_requester")]  # the first of the roles is named
