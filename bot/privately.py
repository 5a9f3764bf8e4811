"""Private answers in group chats: a personal answer goes to the user's private chat only.

A route declared ``private=True`` (bot/registry.py) marks its turn's answer as personal.
When such a turn happens in a group, the dispatcher calls ``redirect``:

- the bot may write to the user privately (they wrote to it in a private chat on this
  platform and have not blocked it): the answer goes there through the outbox, in the
  turn's transaction, and the group hears "I sent it to you privately";
- otherwise, where the platform has start links (Telegram's ``t.me/<bot>?start=...``), the
  answer is held for a day and the group gets a button that opens the private chat; its
  ``/start private-<id>`` delivers the held answer there (handlers/account.py);
- otherwise the user is asked to write to the bot privately first; nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from bot.context import Context
from bot.messages import Button, Reply, flat_buttons
from storage import outbox
from storage.conversations import load_state
from storage.users import Identity

StartLink = Callable[[str], str | None]  # a /start payload -> the link that sends it, or None
LINK_PREFIX = "private"  # the deep-link prefix of a held answer: /start private-<id>


async def redirect(
    ctx: Context, replies: list[Reply], event_key: str, start_link: StartLink | None
) -> list[Reply]:
    """Send a group turn's personal replies privately (or hold them); the group's answer."""
    incoming = ctx.incoming
    identity = await ctx.db.scalar(
        select(Identity).where(
            Identity.platform == incoming.platform, Identity.external_id == incoming.user_id
        )
    )
    if identity is not None and identity.private_chat_id and identity.reachable:
        await outbox.enqueue(
            ctx.db,
            platform=incoming.platform,
            recipient=identity.private_chat_id,
            replies=replies,
            user_id=ctx.user.id,
            priority=outbox.DIRECT,
            dedup_key=f"private:{event_key}",
        )
        await _offer_in(ctx, identity.private_chat_id, replies)
        return [Reply(ctx.t("private.sent"))]
    if start_link is not None:
        held = await outbox.hold(
            ctx.db,
            platform=incoming.platform,
            user_id=ctx.user.id,
            replies=replies,
            dedup_key=f"held:{event_key}",
        )
        link = start_link(f"{LINK_PREFIX}-{held.id}")
        if link:
            return [Reply(ctx.t("private.start"), [Button(ctx.t("button.open_private"), url=link)])]
        await ctx.db.delete(held)
    return [Reply(ctx.t("private.write_first"))]


async def _offer_in(ctx: Context, chat_id: str, replies: list[Reply]) -> None:
    """Remember the answer's buttons as offered in the private chat (numbers pick them)."""
    offered = flat_buttons(replies)
    if not offered:
        return
    state = await load_state(ctx.db, ctx.incoming.platform, chat_id, ctx.user.id)
    state.data = {**(state.data or {}), "buttons": [[b.label, b.payload] for b in offered]}
