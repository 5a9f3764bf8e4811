"""Numbered list pages: every list answer is one message, its items' buttons in one keyboard.

A page is a header, the items numbered "1.", "2.", … (their continuation lines indented), an
optional footer, and one keyboard: each item's actions labelled with its number ("1 Details",
"1 Apply", "2 Details", …), then the page's own buttons ("More", …). Payloads still name the
object by id (signed on Telegram like every button), so "2 Details" acts on item 2 wherever
the message is. Telegram lays the keyboard out one row per item (bot/telegram/render.py) and
lets each button of a page be pressed once (bot/telegram/updates.py). Matrix and the console
show a list turn's choices as text, a line per item ("1 Details · 1 Bewerben") and one for
the page's own buttons ("Mehr · Benachrichtige mich"), not as numbered options: there, and on
every platform, a typed number names the item ("2" shows item 2's details, its first action),
a typed label picks that button ("2 bewerben", "mehr", or "details" and then which). An
action that cannot be undone (closing a posting, deleting an alert, unfollowing – declared
`@button(..., by_number=False)`) is not pressed by a bare typed number: the item's actions are
offered to confirm ("Zu Nummer 2 – bitte bestätige: [1] Löschen").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.messages import Button, Reply

ITEM_LABEL = re.compile(r"(\d{1,3}) [^\W\d_]")  # "2 Details", not "10 €"
INDENT = "   "
# the chat state's key for the actions a typed item number only offered to confirm ("Zu Nummer
# 1 – bitte bestätige:"), held one turn by the dispatcher; "nein" then drops them (core.cancel)
CONFIRM_ASKED = "confirm_asked"


@dataclass
class Item:
    """One entry of a list: its text and the actions on it (labels without the number)."""

    text: str
    actions: list[Button] = field(default_factory=list)


def item_label(number: int, label: str) -> str:
    """The label of an item's action: '2 Details'."""
    return f"{number} {label}"


def item_number(label: str) -> int | None:
    """The item a list button belongs to ('2 Details' -> 2); None for a page's own button."""
    match = ITEM_LABEL.match(label)
    return int(match.group(1)) if match else None


def action_label(label: str) -> str:
    """A list button's label without its item number ('2 Details' -> 'Details')."""
    return label.split(" ", 1)[1] if item_number(label) is not None else label


def numbered(number: int, action: Button) -> Button:
    """An item's action as a list button: the same payload (or link), the number in front."""
    return Button(item_label(number, action.label), action.payload, action.url)


def page(
    header: str,
    items: Sequence[Item],
    *,
    footer: str = "",
    buttons: Sequence[Button] = (),
    first: int = 1,
    separator: str = "\n\n",
) -> Reply:
    """A list page as one reply: header, numbered items, footer; all buttons in one keyboard.

    first is the number of the page's first item (page 2 of three per page starts at 4);
    buttons are the page's own (more, alert me, …) and come after the items' actions.
    """
    lines = [header] if header else []
    keyboard: list[Button] = []
    for number, item in enumerate(items, first):
        lines.append(f"{number}. " + indented(item.text))
        keyboard += [numbered(number, action) for action in item.actions]
    if footer:
        lines.append(footer)
    return Reply(separator.join(lines), [*keyboard, *buttons])


ITEM_LINE = re.compile(r"^(\d{1,3})\. (.+)$", re.MULTILINE)
MAX_TITLE = 80


def item_titles(text: str) -> dict[str, str]:
    """The first line of each numbered item of a list page's text, by number ("2" -> "Café
    Rosa"), as page() writes them – to name an item when asking to confirm its action."""
    return {m.group(1): m.group(2)[:MAX_TITLE] for m in ITEM_LINE.finditer(text)}


def indented(text: str) -> str:
    """An item's continuation lines indented under its number; an empty line stays empty."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(INDENT + line if line else "" for line in rest)])


def list_turn(buttons: Sequence[Button]) -> bool:
    """Whether a turn offers list items' actions: then a typed number names an item."""
    return any(not b.url and item_number(b.label) is not None for b in buttons)


def item_buttons(buttons: Sequence[Button], number: int) -> list[Button]:
    """The actions of item `number` among a turn's buttons, in order (links excluded)."""
    return [b for b in buttons if not b.url and item_number(b.label) == number]


def item_button(buttons: Sequence[Button], number: int) -> Button | None:
    """The first action of item `number` among a turn's buttons (a typed "2": its details)."""
    return next(iter(item_buttons(buttons, number)), None)


def choice_lines(buttons: Sequence[Button]) -> list[str]:
    """A list turn's choices as text: a line per item ("1 Details · 1 Bewerben"), then the
    other buttons on one line ("Mehr · Benachrichtige mich"); links are not choices."""
    rows: dict[int | None, list[str]] = {}
    for button in buttons:
        if not button.url:
            rows.setdefault(item_number(button.label), []).append(button.label)
    own = rows.pop(None, [])
    return [" · ".join(labels) for labels in [*rows.values(), *([own] if own else [])]]


def stored_buttons(pairs: list[list[str]] | None) -> list[Button]:
    """Buttons kept in the chat's state as [label, payload] pairs (the dispatcher keeps the
    turn's offer under "buttons" and a list page left for an item's details under
    "list_buttons")."""
    return [Button(label, data) for label, data in pairs or []]
