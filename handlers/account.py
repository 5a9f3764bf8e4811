"""The user's account: roles via invite codes, data export and erasure (GDPR)."""

from __future__ import annotations

import json

from bot.context import Context
from bot.messages import Attachment, Button, Reply
from bot.privately import LINK_PREFIX
from bot.ratelimit import guesses_left, wrong_guess
from bot.registry import button, command, deep_link, intent, org_label
from storage import outbox, users
from storage.privacy import export_user

DELETE_ASKED = "delete_asked"  # state flag: the erase question is open in this chat


@command("claim", help_key="help.cmd.claim", private=True)
async def claim(ctx: Context, args: str) -> list[Reply]:
    """/claim CODE: take the role an admin's invite code grants."""
    code = args.strip()
    if not code:
        return [Reply(ctx.t("claim.usage"))]
    refused = guesses_left(ctx, "claim")
    if refused:
        return refused
    try:
        grant = await users.claim_invite(ctx.db, ctx.user, code)
    except users.InviteError as error:
        wrong_guess(ctx, "claim")
        return [Reply(ctx.t(error.reason))]
    role = ctx.t(f"roles.{grant.role}")
    if grant.org:
        org = await org_label(ctx.db, grant.role, grant.org) or grant.org
        return [Reply(ctx.t("claim.granted_org", role=role, org=org))]
    return [Reply(ctx.t("claim.granted", role=role))]


@command("invite", help_key="help.cmd.invite", role="admin", private=True)
async def invite(ctx: Context, args: str) -> list[Reply]:
    """/invite ROLE [ORG]: an admin creates an invite code in the chat."""
    role, _, org = args.strip().partition(" ")
    if org.strip() and await org_label(ctx.db, role.strip(), org.strip()) is None:
        return [Reply(ctx.t("invite.unknown_org", org=org.strip()))]  # a code nobody could use
    try:
        code = await users.create_invite(ctx.db, role.strip(), org.strip() or None)
    except ValueError:
        return [Reply(ctx.t("invite.usage", roles=", ".join(users.ROLES)))]
    return [Reply(ctx.t("invite.created", code=code.code, role=ctx.t(f"roles.{role}")))]


@command("roles", help_key="help.cmd.roles", private=True)
async def my_roles(ctx: Context, _args: str) -> list[Reply]:
    """The roles the user holds."""
    if not ctx.user.roles:
        return [Reply(ctx.t("roles.none"))]
    lines = [ctx.t("roles.list")]
    for grant in ctx.user.roles:
        org = (await org_label(ctx.db, grant.role, grant.org) or grant.org) if grant.org else ""
        lines.append(f"• {ctx.t(f'roles.{grant.role}')}" + (f" – {org}" if org else ""))
    return [Reply("\n".join(lines))]


@intent("export_my_data", private=True)
@command("mydata", help_key="help.cmd.mydata", private=True)
async def export_my_data(ctx: Context, _args: str = "") -> list[Reply]:
    """Everything stored about the user, as a JSON file."""
    data = await export_user(ctx.db, ctx.user.id)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    counts = ", ".join(
        f"{ctx.t(f'privacy.section.{section}')}: {len(rows)}"
        for section, rows in data.items()
        if rows
    )
    return [
        Reply(
            ctx.t("privacy.export", counts=counts),
            file=Attachment("citybot-my-data.json", content, "application/json"),
            buttons=[Button(ctx.t("button.delete_my_data"), "account.delete")],
        )
    ]


@intent("delete_my_data")
@command("deletedata", help_key="help.cmd.deletedata")
async def ask_delete(ctx: Context, _args: str = "") -> list[Reply]:
    """Ask before erasing everything about the user (the answer buttons need this question)."""
    ctx.state[DELETE_ASKED] = True
    return [
        Reply(
            ctx.t("privacy.delete_question"),
            [
                Button(ctx.t("button.delete_confirm"), "account.delete_confirm"),
                Button(ctx.t("button.keep"), "account.keep"),
            ],
        )
    ]


@button("account.delete")
async def delete_button(ctx: Context) -> list[Reply]:
    """The delete button under the export."""
    return await ask_delete(ctx)


@button("account.delete_confirm")
async def delete_everything(ctx: Context) -> list[Reply]:
    """Erase the user, their identities, roles, states and service data – if they were asked."""
    if not ctx.state.get(DELETE_ASKED):
        return await ask_delete(ctx)
    text = ctx.t("privacy.deleted")
    await users.delete_user(ctx.db, ctx.user)
    ctx.erased = True
    return [Reply(text)]


@button("account.keep")
async def keep(ctx: Context) -> list[Reply]:
    """The user decided to keep their data."""
    ctx.state.pop(DELETE_ASKED, None)
    return [Reply(ctx.t("privacy.kept"))]


@deep_link(LINK_PREFIX, private=True)
async def held_answer(ctx: Context, held_id: int) -> list[Reply]:
    """/start private-<id>: the personal answer asked for in a group, now in the private chat."""
    replies = await outbox.take_held(ctx.db, held_id, ctx.user.id, ctx.incoming.platform)
    if replies is None:
        return [Reply(ctx.t("private.link_expired"))]
    return replies
