"""Conversation basics: greeting, help, thanks, goodbye, cancel, language, fallback, /start."""

from __future__ import annotations

import re

from bot import forms
from bot.context import Context
from bot.i18n import LANGUAGES, same_label
from bot.listing import CONFIRM_ASKED, action_label, list_turn, stored_buttons
from bot.messages import Button, Reply
from bot.registry import BadArguments, button, command, intent, registry, split_payload
from handlers import account

# a question about the bot itself: what it is, who answers, what it costs
ABOUT_THE_BOT = re.compile(
    r"\b(?:bist du|sind sie|ist das|rede ich|spreche ich|schreibe ich|chatte ich)\b.{0,30}"
    r"\b(?:mensch\w*|bot|chatbot|roboter|ki|maschine|computer|programm|echt)\b"
    r"|\bmit wem (?:spreche|schreibe|rede|chatte)\b|\bwer (?:bist du|sind sie|ist da)\b"
    r"|\bwas bist du\b|\bkosten(?:los|frei|pflichtig)\b|\bgratis\b|\bumsonst\b"
    r"|\bkostet (?:das|es|der bot) (?:was|etwas|geld)\b"
    r"|\b(?:are you|is this|is it|am i (?:talking|speaking|chatting|writing) (?:to|with))\b.{0,30}"
    r"\b(?:human|person|bot|chatbot|robot|ai|machine|computer|program|real)\b"
    r"|\bwho (?:are you|is this|am i (?:talking|speaking|chatting|writing) (?:to|with))\b"
    r"|\bwhat are you\b|\b(?:is (?:this|it)|are you) free\b|\bfree of charge\b"
    r"|\b(?:does|do|will) (?:this|it|you) cost\b|\bcosts? (?:anything|money)\b"
)


def menu_buttons(ctx: Context) -> list[Button]:
    """The services on offer, as buttons, plus help."""
    buttons = [Button(ctx.t(entry.label), entry.payload) for entry in registry.menu]
    return [*buttons, Button(ctx.t("button.help"), "help")]


@intent("greet")
async def greet(ctx: Context) -> list[Reply]:
    """Say hello and what the bot can do."""
    return [Reply(ctx.t("greet.text", city=ctx.config.city.name), menu_buttons(ctx))]


@command("start", help_key="help.cmd.start")
async def start(ctx: Context, args: str) -> list[Reply]:
    """Start over (leaves any form); a deep-link payload like 'job-123' opens that item."""
    forms.cancel_form(ctx)
    if args:
        prefix, _, arg = args.strip().partition("-")
        route = registry.deep_links.get(prefix)
        if route is None or not arg:
            return [Reply(ctx.t("start.bad_link")), *await greet(ctx)]
        try:
            return await route(ctx, arg.split("-"))
        except BadArguments:
            return [Reply(ctx.t("start.bad_link")), *await greet(ctx)]
    return await greet(ctx)


def command_lines(ctx: Context) -> list[str]:
    """A line per command the user may use ("/balance CODE – what it does"); a role's
    commands only for those who hold the role (admins hold every role)."""
    lines = []
    for name, key in registry.commands_for(ctx.has_role):
        usage, dash, what = ctx.t(key).partition(" – ")  # "CODE – what it does": arguments
        lines.append(f"/{name} {usage} – {what}" if dash else f"/{name} – {usage}")
    return lines


def asks_about_the_bot(text: str) -> bool:
    """Whether a message asks what the bot is or what it costs ("bist du ein mensch?", "mit wem
    spreche ich", "ist das kostenlos?", "are you a human?")."""
    return ABOUT_THE_BOT.search(text.lower()) is not None


def about_the_bot(ctx: Context) -> list[Reply]:
    """The bot is the city's program, no human, and free to use – then what it can do."""
    return [Reply(ctx.t("about_bot.text", city=ctx.config.city.name), menu_buttons(ctx))]


def asked_about_the_bot(ctx: Context) -> bool:
    """Whether the user typed a question about the bot (not a command or a button)."""
    return ctx.incoming.kind == "text" and asks_about_the_bot(ctx.incoming.text)


@intent("help")
@command("help", help_key="help.cmd.help")
async def show_help(ctx: Context, _args: str = "") -> list[Reply]:
    """What the bot can do and the commands this user can use; a question about the bot itself
    ("bist du ein mensch?") gets what it is first."""
    if asked_about_the_bot(ctx):
        return about_the_bot(ctx)
    lines = [ctx.t("help.intro"), *command_lines(ctx)]
    return [Reply("\n".join(lines), menu_buttons(ctx)[:-1])]


@button("help")
async def help_button(ctx: Context) -> list[Reply]:
    """The help button."""
    return await show_help(ctx)


@intent("thanks")
async def thanks(ctx: Context) -> list[Reply]:
    """You're welcome."""
    return [Reply(ctx.t("thanks.text"))]


@intent("goodbye")
async def goodbye(ctx: Context) -> list[Reply]:
    """Bye (and leave any open form)."""
    forms.cancel_form(ctx)
    return [Reply(ctx.t("goodbye.text"))]


def offered_buttons(ctx: Context) -> list[Button]:
    """The buttons the last answer offered (kept in the chat's state)."""
    return stored_buttons(ctx.state.get("buttons"))


def cannot_be_undone(offered: list[Button]) -> bool:
    """Whether an offer holds an action that cannot be undone ("Platz zurückgeben", "Entfolgen"
    under what was just done: the answer's own undo, no question)."""
    routes = (registry.buttons.get(split_payload(b.payload)[0]) for b in offered if not b.url)
    return any(route is not None and not route.by_number for route in routes)


def list_kept(ctx: Context, offered: list[Button]) -> list[Reply]:
    """"zurück" or "nein" under a list page: the list stays (a reply without buttons keeps its
    items nameable), and how to go on."""
    more = any(same_label(b.label, ctx.t("button.more")) for b in offered)
    return [Reply(ctx.t("listing.kept_more" if more else "listing.kept"))]


def leave_offer(ctx: Context) -> list[Reply]:
    """A "no" or "back" outside a form under offered buttons: an item's confirmation is
    dropped; a list stays (also below an item's details opened from it); an answer's undo button
    is left as it is, said so ("Du bist angemeldet … [Platz zurückgeben]": nothing was undone);
    any other offer is dropped."""
    offered = offered_buttons(ctx)
    if ctx.state.get(CONFIRM_ASKED):  # "Nummer 1, „Café Rosa“ – bitte bestätige:"
        return [Reply(ctx.t("form.offer_dropped"), menu_buttons(ctx))]
    if list_turn(offered):
        return list_kept(ctx, offered)
    if cannot_be_undone(offered):
        return [Reply(ctx.t("confirm.nothing_undone"), offered)]
    left = stored_buttons(ctx.state.get("list_buttons"))
    if list_turn(left):  # an item's details opened from a list: the list is still above
        return list_kept(ctx, left)
    return [Reply(ctx.t("form.offer_dropped"), menu_buttons(ctx))]


@intent("cancel")
@command("cancel", help_key="help.cmd.cancel")
async def cancel(ctx: Context, _args: str = "") -> list[Reply]:
    """Leave the current form, whatever it is (outside one: see leave_offer)."""
    ctx.state.pop(account.DELETE_ASKED, None)  # "abbrechen" to the erase question: kept
    if forms.cancel_form(ctx):
        return [Reply(ctx.t("form.cancelled"), menu_buttons(ctx))]
    if ctx.state.get("buttons"):
        return leave_offer(ctx)
    return [Reply(ctx.t("form.nothing_to_cancel"))]


def buttons_named(ctx: Context) -> list[Button]:
    """The offered buttons whose every label word the message says ("i want to apply" names
    [Apply], also "1 Apply" of a list), but none that cannot be undone (they are confirmed)."""
    words = set(forms.bare_words(ctx.incoming.text).split())
    named = []
    for offered in offered_buttons(ctx):
        route = registry.buttons.get(split_payload(offered.payload)[0])
        label = forms.bare_words(action_label(offered.label)).split()
        if route is not None and route.by_number and label and set(label) <= words:
            named.append(offered)
    return named


def single_action(ctx: Context, menu: set[str]) -> Button | None:
    """The one button the last answer offered besides the menu, if it may be pressed by a
    plain yes (not an action that cannot be undone, such as [Entfolgen])."""
    offered = [b for b in offered_buttons(ctx) if b.payload not in menu and not b.url]
    if len(offered) != 1:
        return None
    route = registry.buttons.get(split_payload(offered[0].payload)[0])
    return offered[0] if route is not None and route.by_number else None


@intent("affirm", "deny")
async def nothing_to_confirm(ctx: Context) -> list[Reply]:
    """A yes or no outside a form: a "no" under offered buttons is leave_offer, a "yes" there
    asks for the button (it cannot tell which one); with nothing offered, a "yes" ("ok" after
    "Gern geschehen!") is acknowledged and a "no" hears that no question is open. While the
    erase question waits, a yes answers it, and so does a no under it or under no other offer
    (account.answer_to_erase_question)."""
    offered = {b.payload for b in offered_buttons(ctx)}
    menu = {b.payload for b in menu_buttons(ctx)}
    other_offer = bool(offered) and not offered <= menu and not account.erase_question_shown(ctx)
    if account.erase_question_open(ctx) and (ctx.intent == "affirm" or not other_offer):
        return await account.answer_to_erase_question(ctx, yes=ctx.intent == "affirm")
    if offered and not offered <= menu:
        if ctx.intent == "deny":
            return leave_offer(ctx)
        named = buttons_named(ctx)  # "that one looks good, i want to apply" under [Apply]
        if len({b.payload for b in named}) == 1:
            action, args = split_payload(named[0].payload)
            return await registry.buttons[action](ctx, args)
        if named:
            return [Reply(ctx.t("button.which"), named)]
        only = single_action(ctx, menu) if ctx.intent == "affirm" else None
        if only is not None:  # "yes" under a job's details: its one [Apply]
            action, args = split_payload(only.payload)
            return await registry.buttons[action](ctx, args)
        return [Reply(ctx.t("confirm.press_button"))]
    if offered and ctx.intent == "affirm":  # "ja gerne" under the menu: which service
        return [Reply(ctx.t("confirm.which_service"), menu_buttons(ctx))]
    if ctx.intent == "affirm":
        return [Reply(ctx.t("confirm.ack"))]
    return [Reply(ctx.t("confirm.nothing_open"), menu_buttons(ctx))]


LANGUAGE_NAMES = {"en": re.compile(r"engl|\ben\b"), "de": re.compile(r"deutsch|german|\bde\b")}
# "i don't speak german", "no german please", "ich spreche kein englisch": the other language
NOT_THIS_ONE = re.compile(
    r"\b(?:don'?t|do not|can'?t|cannot|no|not|kein\w*|nicht|bad|poor|schlecht\w*|wenig)\b"
)
ASKED_OF_THE_BOT = re.compile(r"\b(?:you|du|ihr|sie)\b")  # "sprichst du kein englisch?"


def language_in(text: str) -> str | None:
    """The language a message asks for: the one it names ("english please"), or the other
    one where the user says they do not speak it ("sorry i dont speak german" – before: German
    for good); None where it names none."""
    lowered = text.lower()
    named = [lang for lang, name in LANGUAGE_NAMES.items() if name.search(lowered)]
    if len(named) != 1:
        return named[0] if named else None  # both named: "english, not german"
    refused = NOT_THIS_ONE.search(lowered) and not ASKED_OF_THE_BOT.search(lowered)
    return ("de" if named[0] == "en" else "en") if refused else named[0]


def _language_buttons() -> list[Button]:
    return [Button("Deutsch", "lang.set:de"), Button("English", "lang.set:en")]


@intent("change_language")
async def change_language(ctx: Context) -> list[Reply]:
    """Switch to the language the user names, or offer both."""
    target = language_in(ctx.incoming.text)
    if target is None:
        return [Reply(ctx.t("language.choose"), _language_buttons())]
    return await set_language(ctx, target)


@command("language", help_key="help.cmd.language")
async def language_command(ctx: Context, args: str) -> list[Reply]:
    """/language de|en."""
    target = args.strip().lower()[:2]
    if target not in LANGUAGES:
        return [Reply(ctx.t("language.choose"), _language_buttons())]
    return await set_language(ctx, target)


@button("lang.set")
async def set_language(ctx: Context, language: str) -> list[Reply]:
    """Store the user's language."""
    if language not in LANGUAGES:
        return [Reply(ctx.t("button.expired"))]
    ctx.set_language(language)
    return [Reply(ctx.t("language.set"))]


ELSEWHERE_WORDS = 4


@intent("nlu_fallback")
async def fallback(ctx: Context) -> list[Reply]:
    """Not understood: say so and offer the services instead of guessing; a real question (four
    words or more: "wo kann ich meinen personalausweis verlängern") also gets where the city's
    other services are asked (the authorities' number 115); a question about the bot itself
    ("bist du ein mensch?") gets what it is, one about personal data ("ist das dsgvo konform?")
    the privacy answer; an invite code typed without /claim is claimed."""
    if asked_about_the_bot(ctx):
        return about_the_bot(ctx)
    if account.asks_about_personal_data(ctx.incoming.text):  # "ist das dsgvo konform?"
        return account.privacy_answer(ctx)
    claimed = await account.claim_typed_code(ctx)  # "RJPR-LKVX" without /claim
    if claimed is not None:
        return claimed
    text = ctx.t("fallback.text")
    if len(ctx.incoming.text.split()) >= ELSEWHERE_WORDS:
        text += "\n\n" + ctx.t("fallback.elsewhere")
    return [Reply(text, menu_buttons(ctx))]


def action_of(payload: str) -> str:
    """The action part of a button payload (for tests and transports)."""
    return split_payload(payload)[0]
