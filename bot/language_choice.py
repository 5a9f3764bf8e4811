"""A user's language when the platform gives none: decided by their first messages, offered once.

Telegram sends the app's language with every message; Matrix and the console send none.
There a new user starts undecided (the city's default language) and the first message that
tells its language (nlu `language_guess`: two words or more, the detector sure) decides it.
Afterwards, messages written confidently in the other language are counted in a row (one in
the user's language resets the count, one that tells nothing does not); at OFFER_STREAK the
next answer outside a form and a group carries one offer to switch, made only once per user.
An explicit choice (/language, the language buttons, "in English please", the offer's
buttons) is final: detection never changes it. A platform's locale is kept as well.

```mermaid
stateDiagram-v2
    [*] --> platform: new user, the platform gives a language
    [*] --> undecided: new user, no (usable) locale
    undecided --> detected: a message that tells its language
    detected --> detected: other language, streak + 1 / own language, streak 0
    detected --> offered: streak >= OFFER_STREAK (one offer, buttons)
    undecided --> chosen: /language, language buttons
    detected --> chosen: /language, language buttons
    offered --> chosen: an offer button or /language
    platform --> chosen: /language
```
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.i18n import LANGUAGES, normalise_language, translator
from bot.messages import Button, Reply
from storage.users import User

if TYPE_CHECKING:
    from bot.context import Context

logger = logging.getLogger(__name__)

PLATFORM = "platform"  # the platform's locale (Telegram's language_code)
DETECTED = "detected"  # decided by the user's first message that told its language
CHOSEN = "chosen"  # the user's explicit choice: final
OFFER_STREAK = 3  # messages in a row in the other language before the one offer


def choose(user: User, language: str) -> None:
    """The user's explicit choice of language: final, detection no longer changes it."""
    user.language = language
    user.language_source = CHOSEN
    user.language_streak = 0


def _tells(ctx: Context) -> str | None:
    """The language a typed message is confidently written in, or None."""
    incoming = ctx.incoming
    text = incoming.text.strip()
    if incoming.kind != "text" or not text or text.startswith(("/", "!")):
        return None
    guess = ctx.nlu.language_guess(text)
    return guess[0] if guess is not None and guess[0] in LANGUAGES else None


def first_source(locale: str | None) -> str | None:
    """A new user's language source: the platform's when its locale is usable, else None."""
    return PLATFORM if normalise_language(locale, "") else None


def listen(ctx: Context) -> None:
    """Before routing: let the message decide a new user's language or count the streak.

    A new user arrives with language_source already set (first_source, at creation).
    """
    user = ctx.user
    if user.language_source in (PLATFORM, CHOSEN) or user.language_offer is not None:
        return  # final, or offered already: nothing more to decide or count
    language = _tells(ctx)
    if language is None:
        return
    if user.language_source is None:
        user.language = language
        user.language_source = DETECTED
        user.language_streak = 0
        logger.info("language detected user=%d language=%s", user.id, language)
    elif language == user.language:
        user.language_streak = 0
    else:
        user.language_streak = (user.language_streak or 0) + 1


def offer(ctx: Context) -> list[Reply]:
    """After routing: the one offer to switch, once the streak is long enough (else nothing)."""
    from bot import forms  # bot.forms imports bot.context, which imports this module

    user = ctx.user
    if (
        ctx.erased
        or user.language_source != DETECTED
        or user.language_offer is not None
        or (user.language_streak or 0) < OFFER_STREAK
        or ctx.incoming.is_group
        or forms.active_form(ctx) is not None
    ):
        return []
    other = next(lang for lang in LANGUAGES if lang != user.language)
    user.language_offer = other
    logger.info("language offered user=%d language=%s", user.id, other)
    t = translator(other)
    buttons = [
        Button(t("language.offer.switch"), f"lang.set:{other}"),
        Button(t("language.offer.keep"), f"lang.set:{user.language}"),
    ]
    return [Reply(t("language.offer"), buttons)]
