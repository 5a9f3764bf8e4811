"""Replies as Telegram calls: escaped HTML, long texts split, inline keyboards, media, invoices."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.listing import item_number
from bot.messages import Attachment, Button, Invoice, Reply, Venue

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PAIR_LABEL_LIMIT = 16  # buttons with short labels go two to a row
ITEM_ROW_LIMIT = 3  # a list item's actions share a row, up to three

Method = Literal["sendMessage", "sendPhoto", "sendDocument", "sendInvoice", "sendVenue"]
# the Bot API's InlineKeyboardButton and InlineKeyboardMarkup as JSON
KeyboardButton = dict[str, str]
Keyboard = dict[str, list[list[KeyboardButton]]]


@dataclass
class Outgoing:
    """One Bot API call that sends a message; text is HTML, ready to send."""

    method: Method
    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    attachment: Attachment | None = None
    invoice: Invoice | None = None
    venue: Venue | None = None


def to_html(text: str) -> str:
    """Plain text as Telegram HTML: everything escaped, nothing interpreted."""
    return html.escape(text, quote=False)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str, limit: int) -> bool:
    return telegram_length(to_html(text)) <= limit


def _hard_split(text: str, limit: int) -> list[str]:
    parts, current = [], ""
    for char in text:
        if current and not _fits(current + char, limit):
            parts.append(current)
            current = ""
        current += char
    return [*parts, current] if current else parts


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Plain text cut into pieces whose HTML fits limit: at paragraphs, else lines, else words."""
    if _fits(text, limit):
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) == 1:
            continue
        parts: list[str] = []
        current = ""
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if _fits(candidate, limit):
                current = candidate
                continue
            if current:
                parts.append(current)
            if _fits(piece, limit):
                current = piece
            else:
                parts.extend(split_text(piece, limit))
                current = ""
        if current:
            parts.append(current)
        return [part for part in parts if part.strip()]
    return _hard_split(text, limit)


def keyboard(buttons: list[Button], sign: Callable[[str], str] = str) -> Keyboard | None:
    """Buttons as an inline keyboard; sign turns a payload into callback data (signed for the chat).

    The keyboard is the Bot API's JSON (an InlineKeyboardMarkup), sent as it is: building
    python-telegram-bot's objects for it and serialising them again took about 0.2 ms for an
    answer with eight buttons, as much as the rest of sending it.

    The actions of a list page's items ("1 Details", "1 Apply", bot/listing.py) get one row
    per item (at most ITEM_ROW_LIMIT buttons a row); when every item has a single action, and
    for all other buttons, two go to a row when all their labels are short, else one.
    """
    if not buttons:
        return None
    groups: list[tuple[int | None, list[Button]]] = []
    for button in buttons:
        number = item_number(button.label)
        if groups and number is not None and groups[-1][0] == number:
            groups[-1][1].append(button)
        else:
            groups.append((number, [button]))
    if all(number is None or len(group) == 1 for number, group in groups):
        return {"inline_keyboard": _paired(buttons, sign)}
    rows: list[list[KeyboardButton]] = []
    loose: list[Button] = []
    for number, group in groups:
        if number is None:
            loose += group
            continue
        rows += _paired(loose, sign)
        loose = []
        rows += [
            [_inline(b, sign) for b in group[i : i + ITEM_ROW_LIMIT]]
            for i in range(0, len(group), ITEM_ROW_LIMIT)
        ]
    rows += _paired(loose, sign)
    return {"inline_keyboard": rows}


def _paired(buttons: list[Button], sign: Callable[[str], str]) -> list[list[KeyboardButton]]:
    """Rows of two buttons when all labels are short, else of one."""
    per_row = 2 if all(len(b.label) <= PAIR_LABEL_LIMIT for b in buttons) else 1
    return [
        [_inline(b, sign) for b in buttons[i : i + per_row]]
        for i in range(0, len(buttons), per_row)
    ]


def _inline(button: Button, sign: Callable[[str], str] = str) -> KeyboardButton:
    """A choice as a callback button (its payload signed), a link as a URL button."""
    if button.url:
        return {"text": button.label, "url": button.url}
    return {"text": button.label, "callback_data": sign(button.payload)}


def plan(reply: Reply, *, invoices: bool) -> list[Outgoing]:
    """The calls that send one reply; its buttons go under the last message that can carry them.

    An image or file takes the text as its caption when it fits; a venue follows as sendVenue;
    an invoice is sent only when payments are configured (otherwise just the text goes out).
    """
    media: list[Outgoing] = []
    if reply.image is not None:
        media.append(Outgoing("sendPhoto", attachment=reply.image))
    if reply.file is not None:
        media.append(Outgoing("sendDocument", attachment=reply.file))
    calls: list[Outgoing] = []
    if reply.text and media and _fits(reply.text, CAPTION_LIMIT):
        media[0].text = to_html(reply.text)
    elif reply.text:
        calls += [Outgoing("sendMessage", to_html(part)) for part in split_text(reply.text)]
    calls += media
    if reply.venue is not None:
        calls.append(Outgoing("sendVenue", venue=reply.venue))
    if calls:
        calls[-1].buttons = list(reply.buttons)
    elif reply.buttons:
        calls.append(Outgoing("sendMessage", "…", list(reply.buttons)))
    if reply.invoice is not None and invoices:
        calls.append(Outgoing("sendInvoice", invoice=reply.invoice))
    return calls


def plan_all(replies: list[Reply], *, invoices: bool) -> list[Outgoing]:
    """The calls that send a turn's replies, in order."""
    return [call for reply in replies for call in plan(reply, invoices=invoices)]
