"""The user's account: roles via invite codes, data export and erasure (GDPR)."""

from __future__ import annotations

import json
import re

from bot.context import Context
from bot.messages import Attachment, Button, Reply
from bot.privately import LINK_PREFIX
from bot.ratelimit import guesses_left, wrong_guess
from bot.registry import button, command, deep_link, intent, org_label
from storage import outbox, users
from storage.privacy import export_user

DELETE_ASKED = "delete_asked"  # state flag: the erase question is open in this chat
# a question about how data is handled ("wer sieht meine daten?", "how long do you keep it")
PRIVACY_QUESTION_START = re.compile(
    r"^(?:wer|wie|was|warum|wozu|wofür|wo|an wen|speichert|speichern|seht|sieht|habt|gebt"
    r"|verkauft|teilt|werden|wird|who|how|what|why|where|to whom|do|does|is|are|will)\b"
)
PRIVACY_TOPIC = re.compile(
    r"\b(?:wer|wie lange|warum|wozu|wofür|an wen|speicher\w*|gespeichert|aufbewahr\w*|sieht"
    r"|sehen|seht|zugriff|weitergeb\w*|weitergegeben|teilt|geteilt|verkauf\w*|datenschutz"
    r"|dsgvo|sicher|passiert|geschieht|who|how long|why|to whom|with whom|store[sd]?|storing"
    r"|keep|kept|see|sees|happens?"
    r"|seen|access|share[sd]?|sharing|sell|sold|privacy|gdpr|safe|secure)\b"
)
# a question whether or when the city deletes data by itself ("wann löscht ihr meine daten?",
# "do you delete my data after a while?"): the privacy answer, never the erase question
WHEN_DELETED = re.compile(
    r"\b(?:wann|irgendwann|automatisch|von selbst|nach (?:einer|einiger) zeit|löscht ihr"
    r"|loescht ihr|werden\b.{0,30}\bgelöscht|when|after a while|automatically"
    r"|(?:do|will|does) (?:you|the city|citybot) delete|(?:is|are|get)\b.{0,20}\bdeleted)\b"
)
# ... unless it asks for the data itself ("zeig mir meine daten", "what do you store about me")
DATA_REQUEST = re.compile(
    r"\b(?:zeig\w*|schick\w*|sende\w*|export\w*|herunterlad\w*|runterlad\w*|download\w*"
    r"|gib|geben|welche daten|über mich|von mir|kopie|auskunft|kann ich|darf ich|ich will"
    r"|ich möchte|was noch|show|send|give|what data|which data|about me|on me|of me|from my"
    r"|what else|copy|can i|could i|may i|i want|i would like|i'd like)\b"
)


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


def asks_about_privacy(text: str) -> bool:
    """Whether a message asks how data is handled – who sees it, how long it is kept ("wer sieht
    meine daten?", "speichert ihr meine daten?") – rather than for the data itself."""
    lowered = text.lower().strip()
    if DATA_REQUEST.search(lowered):
        return False
    question = lowered.endswith("?") or PRIVACY_QUESTION_START.match(lowered) is not None
    return question and PRIVACY_TOPIC.search(lowered) is not None


def privacy_answer(ctx: Context) -> list[Reply]:
    """What is stored, who sees it and how long it is kept, with buttons to export or erase it."""
    retention = ctx.config.retention
    text = ctx.t("privacy.answer", state_days=retention.state_days,
                 outbox_days=retention.outbox_days)
    return [Reply(text, [Button(ctx.t("button.export_my_data"), "account.export"),
                         Button(ctx.t("button.delete_my_data"), "account.delete")])]


@intent("export_my_data", private=True)
@command("mydata", help_key="help.cmd.mydata", private=True)
async def export_my_data(ctx: Context, _args: str = "") -> list[Reply]:
    """Everything stored about the user, as a JSON file; a question how data is handled ("wer
    sieht meine daten?") gets the answer instead, with the export as a button."""
    if ctx.incoming.kind == "text" and asks_about_privacy(ctx.incoming.text):
        return privacy_answer(ctx)
    return await export_file(ctx)


@button("account.export", private=True)
async def export_file(ctx: Context) -> list[Reply]:
    """Everything stored about the user, as a JSON file (also the button under the answer)."""
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
    """Ask before erasing everything about the user (the answer buttons need this question); a
    question whether or when data is deleted anyway ("wann löscht ihr meine daten?") gets the
    privacy answer instead – its delete button asks this question."""
    if ctx.incoming.kind == "text" and WHEN_DELETED.search(ctx.incoming.text.lower()):
        return privacy_answer(ctx)
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
