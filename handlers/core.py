"""Conversation basics: greeting, help, thanks, goodbye, cancel, language, fallback, /start."""

from __future__ import annotations

import re

from bot import forms
from bot.context import Context
from bot.i18n import LANGUAGES
from bot.messages import Button, Reply
from bot.registry import BadArguments, button, command, intent, registry, split_payload


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


@intent("help")
@command("help", help_key="help.cmd.help")
async def show_help(ctx: Context, _args: str = "") -> list[Reply]:
    """What the bot can do and the commands this user can use."""
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


@intent("cancel")
@command("cancel", help_key="help.cmd.cancel")
async def cancel(ctx: Context, _args: str = "") -> list[Reply]:
    """Leave the current form, whatever it is."""
    if forms.cancel_form(ctx):
        return [Reply(ctx.t("form.cancelled"), menu_buttons(ctx))]
    if ctx.state.get("buttons"):  # a question with buttons (confirm, language, …) is dropped
        return [Reply(ctx.t("form.offer_dropped"), menu_buttons(ctx))]
    return [Reply(ctx.t("form.nothing_to_cancel"))]


@intent("affirm", "deny")
async def nothing_to_confirm(ctx: Context) -> list[Reply]:
    """A yes or no outside a form: a "no" under offered buttons drops them, a "yes" there asks
    for the button (it cannot tell which one); with nothing offered, no question is open."""
    offered = {data for _label, data in ctx.state.get("buttons") or []}
    menu = {b.payload for b in menu_buttons(ctx)}
    if offered and not offered <= menu:
        if ctx.intent == "deny":  # "nein" under "Nummer 1, „Café Rosa“ – bitte bestätige:"
            return [Reply(ctx.t("form.offer_dropped"), menu_buttons(ctx))]
        return [Reply(ctx.t("confirm.press_button"))]
    if offered and ctx.intent == "affirm":  # "ja gerne" under the menu: which service
        return [Reply(ctx.t("confirm.which_service"), menu_buttons(ctx))]
    return [Reply(ctx.t("confirm.nothing_open"), menu_buttons(ctx))]


def _language_in(text: str) -> str | None:
    lowered = text.lower()
    if re.search(r"engl|english|\ben\b", lowered):
        return "en"
    if re.search(r"deutsch|german|\bde\b", lowered):
        return "de"
    return None


def _language_buttons() -> list[Button]:
    return [Button("Deutsch", "lang.set:de"), Button("English", "lang.set:en")]


@intent("change_language")
async def change_language(ctx: Context) -> list[Reply]:
    """Switch to the language the user names, or offer both."""
    target = _language_in(ctx.incoming.text)
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
    other services are asked (the authorities' number 115)."""
    text = ctx.t("fallback.text")
    if len(ctx.incoming.text.split()) >= ELSEWHERE_WORDS:
        text += "\n\n" + ctx.t("fallback.elsewhere")
    return [Reply(text, menu_buttons(ctx))]


def action_of(payload: str) -> str:
    """The action part of a button payload (for tests and transports)."""
    return split_payload(payload)[0]
