"""The user's account: roles via invite codes, data export and erasure (GDPR)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.context import Context
from bot.follow_up import stale
from bot.forms import bare_words, says_yes
from bot.listing import stored_buttons
from bot.messages import Attachment, Button, Reply
from bot.privately import LINK_PREFIX
from bot.ratelimit import guesses_left, wrong_guess
from bot.registry import button, command, deep_link, intent, org_label
from storage import outbox, users, vouchers
from storage.base import utcnow
from storage.privacy import export_user

DELETE_ASKED = "delete_asked"  # state: when the erase question was asked in this chat (ISO)
ERASE_QUESTION_OPEN = timedelta(minutes=15)  # how long the erase question waits for its answer
ERASE_CONFIRM = "account.delete_confirm"  # the payload of the erase question's yes button
# words a yes to the erase question may hold besides the yes words ("ja, lösch alles",
# "ja, bitte alles löschen", "yes delete everything")
ERASE_WORDS = (
    "lösch lösche löschen löscht loesch loesche loeschen delete erase remove wipe entfernen"
    " entferne weg alles alle everything all meine mein my daten data konto account sie them"
)
# a request to delete everything, not one thing ("lösch alle meine daten und die bewerbung";
# "lösch alle meine bewerbungen" names one kind of thing)
EVERYTHING = re.compile(
    r"\b(?:alles|alle\s+(?:meine\s+|unsere\s+)?daten|komplett\w*|vollständig\w*|gesamte\w*"
    r"|konto|account|everything|all\s+(?:of\s+)?(?:my\s+)?data|entire\w*|whole|completely)\b"
)
# one thing named in a request to delete it, and the answer that says how (or that it is not
# stored): checked in this order ("lösch meine bewerbung", "delete my alert")
ONE_THING = (
    (re.compile(r"\b(?:telefon\w*|handy\w*|mobilnummer|nummer|adresse|anschrift|e-?mail\w*"
                r"|geburts\w*|phone|number|address|birthday|date of birth)\b"),
     "privacy.delete_one.not_stored"),
    (re.compile(r"\b(?:bewerbung\w*|applications?)\b"), "privacy.delete_one.application"),
    (re.compile(r"\b(?:\w*benachrichtigung\w*|\w*alarm\w*|alerts?|notifications?)\b"),
     "privacy.delete_one.alert"),
    (re.compile(r"\b(?:gutschein\w*|spende\w*|vouchers?|donations?|gift cards?)\b"),
     "privacy.delete_one.voucher"),
    (re.compile(r"\b(?:\w*anmeldung\w*|elternabend\w*|termin\w*|platz|registrations?"
                r"|appointments?|parent evenings?|places?|bookings?)\b"),
     "privacy.delete_one.registration"),
    (re.compile(r"\b(?:laden|läden|geschäft\w*|folge\w*|gefolgt\w*|abo\w*|shops?|stores?"
                r"|follow\w*|subscriptions?)\b"),
     "privacy.delete_one.following"),
)
# an invite code typed without /claim ("RJPR-LKVX"), and one in /claim's argument (dash optional)
TYPED_INVITE = re.compile(r"(?<![\w-])[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}(?![\w-])", re.IGNORECASE)
INVITE_ARGUMENT = re.compile(r"(?<![\w-])[2-9A-HJ-NP-Z]{4}-?[2-9A-HJ-NP-Z]{4}(?![\w-])",
                             re.IGNORECASE)
# a question about how data is handled ("wer sieht meine daten?", "how long do you keep it")
PRIVACY_QUESTION_START = re.compile(
    r"^(?:wer|wie|was|warum|wozu|wofür|wo|an wen|speichert|speichern|seht|sieht|habt|gebt"
    r"|verkauft|teilt|werden|wird|who|how|what|why|where|to whom|do|does|is|are|will)\b"
)
PRIVACY_TOPIC = re.compile(
    r"\b(?:wer|wie lange|warum|wozu|wofür|an wen|speicher\w*|gespeichert|aufbewahr\w*|sieht"
    r"|sehen|seht|zugriff|weitergeb\w*|weitergegeben|teilt|geteilt|verkauf\w*|datenschutz"
    r"|dsgvo|sicher|passiert|geschieht|bekommt|bekommen|erfährt|erfahren|who|how long|why"
    r"|to whom|with whom|store[sd]?|storing|gets?"
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

# the data passed on, said with a split verb or in other words ("gebt ihr meine daten weiter?",
# "reicht ihr meine daten an dritte?", "do you pass my data on?") – not "gebt mir meine daten raus"
PASSED_ON = re.compile(
    r"\b(?:gebt|gibt|geben|reicht|reichen|leitet|leiten)\b.{0,40}\b(?:weiter|raus|heraus)\b"
    r"|\ban (?:dritte|andere|firmen|unternehmen)\b|\bthird[- ]part\w*"
    r"|\bpass(?:es|ed)?\b.{0,30}\bon\b|\bhand(?:s|ed)?\b.{0,30}\bover\b"
)
TO_ME = re.compile(r"\b(?:mir|mich|me)\b")
# personal data named in a message the NLU did not understand ("bekommt der arbeitgeber meinen
# namen?", "ist das dsgvo konform?", "does the employer see my name?")
PERSONAL_DATA = re.compile(
    r"\b(?:\w*daten\w*|dsgvo|namen?|adresse|telefonnummer|privacy|gdpr|data|personal"
    r"|address|phone number)\b"
)
# only the topic, a request for the privacy answer ("datenschutz", "privacy policy")
PRIVACY_POLICY = re.compile(
    r"(?:(?:die|der|eure|ihre|deine|your|the)\s+)?(?:datenschutz\w*|privacy(?:\s+(?:policy"
    r"|notice|statement))?|data\s+protection(?:\s+policy)?|dsgvo|gdpr)"
    r"(?:\s+(?:bitte|please|info\w*|hinweis\w*))?"
)


def invite_code_in(args: str) -> str:
    """The invite code in /claim's argument: its code-shaped part ("/claim RJPR-LKVX bitte"),
    else the argument as typed."""
    found = TYPED_INVITE.search(args) or INVITE_ARGUMENT.search(args)
    return found.group(0) if found else args.strip()


@command("claim", help_key="help.cmd.claim", private=True)
async def claim(ctx: Context, args: str) -> list[Reply]:
    """/claim CODE: take the role an admin's invite code grants; a code for a role the user
    holds already (or one they claimed before) is no wrong guess and stays unused."""
    code = invite_code_in(args)
    if not code:
        return [Reply(ctx.t("claim.usage"))]
    refused = guesses_left(ctx, "claim")
    if refused:
        return refused
    try:
        grant = await users.claim_invite(ctx.db, ctx.user, code)
    except users.RoleHeld as held:
        return [Reply(await role_text(ctx, "claim.already_held", held.role, held.org))]
    except users.InviteError as error:
        wrong_guess(ctx, "claim")
        return [Reply(ctx.t(error.reason))]
    return [Reply(await role_text(ctx, "claim.granted", grant.role, grant.org))]


async def role_text(ctx: Context, key: str, role: str, org: str | None) -> str:
    """A text about a role, with its organisation's name where it has one (key + "_org")."""
    name = ctx.t(f"roles.{role}")
    if not org:
        return ctx.t(key, role=name)
    return ctx.t(f"{key}_org", role=name, org=await org_label(ctx.db, role, org) or org)


async def claim_typed_code(ctx: Context) -> list[Reply] | None:
    """An invite code typed without /claim ("RJPR-LKVX", "mein einladungscode ist RJPR-LKVX"):
    claimed as with /claim when the invite exists; None where the text holds none. A code-shaped
    part that is neither an invite nor a voucher counts as a wrong guess (no way around the
    limit); while guesses are refused, nothing is looked up."""
    typed = [match.group(0) for match in TYPED_INVITE.finditer(ctx.incoming.text)]
    if not typed:
        return None
    refused = guesses_left(ctx, "claim")
    if refused:
        return refused
    for code in typed:
        if await users.find_invite(ctx.db, code) is not None:
            ctx.private = True  # as /claim: in a group the answer goes privately
            return await claim(ctx, code)
    if not await any_voucher(ctx, typed):
        wrong_guess(ctx, "claim")
    return None


async def any_voucher(ctx: Context, typed: list[str]) -> bool:
    """Whether one of the typed codes is an existing voucher's (then it was no invite guess)."""
    for code in typed:
        raw = code.replace("-", "").upper()
        if vouchers.is_valid(raw) and await vouchers.by_code(ctx.db, raw) is not None:
            return True
    return False


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
    """Whether a message asks how data is handled – who sees it, how long it is kept, whether
    it is passed on ("wer sieht meine daten?", "gebt ihr meine daten weiter?") or names only
    the topic ("datenschutz") – rather than for the data itself."""
    lowered = text.lower().strip()
    if PRIVACY_POLICY.fullmatch(bare_words(lowered)):
        return True
    if PASSED_ON.search(lowered) and not TO_ME.search(lowered):
        return True
    if DATA_REQUEST.search(lowered):
        return False
    question = lowered.endswith("?") or PRIVACY_QUESTION_START.match(lowered) is not None
    return question and PRIVACY_TOPIC.search(lowered) is not None


def asks_about_personal_data(text: str) -> bool:
    """Whether a message the NLU did not understand asks how personal data is handled: it names
    such data and asks about it ("ist das dsgvo konform?", "privacy policy")."""
    return PERSONAL_DATA.search(text.lower()) is not None and asks_about_privacy(text)


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
    privacy answer instead – its delete button asks this question; a request naming one thing
    ("lösch meine bewerbung") hears where that is done; a yes right under the question ("ja,
    lösch alles") erases."""
    if ctx.incoming.kind != "text":
        return erase_question(ctx)
    text = ctx.incoming.text.lower()
    if WHEN_DELETED.search(text):
        return privacy_answer(ctx)
    if confirms_erasure(ctx):
        return await delete_everything(ctx)
    one_thing = one_thing_named(text)
    if one_thing is not None:
        return [Reply(ctx.t(one_thing))]
    return erase_question(ctx)


def erase_question(ctx: Context) -> list[Reply]:
    """The erase question with its buttons; it waits ERASE_QUESTION_OPEN for its answer."""
    ctx.state[DELETE_ASKED] = utcnow().isoformat()
    return [
        Reply(
            ctx.t("privacy.delete_question"),
            [
                Button(ctx.t("button.delete_confirm"), ERASE_CONFIRM),
                Button(ctx.t("button.keep"), "account.keep"),
            ],
        )
    ]


def one_thing_named(text: str) -> str | None:
    """The text key saying how to delete the one thing a request names ("lösch meine
    bewerbung": /myapplications), or None for a request to delete everything."""
    if EVERYTHING.search(text):
        return None
    return next((key for pattern, key in ONE_THING if pattern.search(text)), None)


def erase_question_open(ctx: Context) -> bool:
    """Whether the erase question was asked in this chat and still waits for its answer."""
    asked = ctx.state.get(DELETE_ASKED)
    return isinstance(asked, str) and not stale(asked, ERASE_QUESTION_OPEN)


def erase_question_shown(ctx: Context) -> bool:
    """Whether the last answer was the erase question (its buttons are the ones offered)."""
    return any(b.payload == ERASE_CONFIRM for b in stored_buttons(ctx.state.get("buttons")))


def confirms_erasure(ctx: Context) -> bool:
    """Whether a typed message is a yes to the erase question right above it ("ja alles
    löschen", "ja, lösch alles", "yes delete everything"); never a yes after another answer."""
    typed = ctx.incoming.kind == "text" and says_yes(ctx.incoming.text, ERASE_WORDS)
    return typed and erase_question_shown(ctx) and erase_question_open(ctx)


async def answer_to_erase_question(ctx: Context, yes: bool) -> list[Reply]:
    """A yes or no while the erase question waits: a yes right under it erases, a yes after
    another answer (/vouchers, as the question advises) asks it again; a no keeps everything."""
    if not yes:
        return await keep(ctx)
    if confirms_erasure(ctx):
        return await delete_everything(ctx)
    return erase_question(ctx)


@button("account.delete")
async def delete_button(ctx: Context) -> list[Reply]:
    """The delete button under the export."""
    return erase_question(ctx)


@button(ERASE_CONFIRM)
async def delete_everything(ctx: Context) -> list[Reply]:
    """Erase the user, their identities, roles, states and service data – if they were asked
    (and the question still waits)."""
    if not erase_question_open(ctx):
        return erase_question(ctx)
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
