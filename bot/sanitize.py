"""Text cleaned once where it enters: no NUL or control characters, valid code points, capped.

Every transport's Incoming passes through clean_incoming (called first thing in
Dispatcher.handle), so no handler, NLU model or database ever sees a lone surrogate
(possible in webhook and Matrix JSON), a NUL (PostgreSQL refuses it in text columns) or a
megabyte of text.
"""

from __future__ import annotations

import dataclasses
import unicodedata

from bot.messages import Incoming

MAX_TEXT_CHARS = 4096  # Telegram's own limit; the dispatcher answers "too long" above 4000
MAX_PAYLOAD_CHARS = 256  # button data is <= 64 bytes; anything longer is forged anyway
MAX_NAME_CHARS = 100  # users.display_name
KEEP = {"\n", "\t"}


def _allowed(ch: str) -> bool:
    """Not a control character, surrogate or noncharacter (U+FDD0..FDEF, U+xFFFE/F)."""
    if ch in KEEP:
        return True
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return False
    code = ord(ch)
    return not (0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)


def _valid_code_points(text: str) -> str:
    """Surrogate pairs joined, lone surrogates replaced by U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Text without NUL/control characters (newlines and tabs kept), valid, at most max_chars."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isprintable():
        text = _valid_code_points(text)
        text = "".join(ch for ch in text if _allowed(ch))
    return text[:max_chars]


def clean_incoming(incoming: Incoming) -> Incoming:
    """The event with its text, button payload and display name cleaned."""
    text = clean_text(incoming.text)
    payload = clean_text(incoming.payload, MAX_PAYLOAD_CHARS)
    name = incoming.display_name
    if name is not None:
        name = " ".join(clean_text(name, MAX_NAME_CHARS * 2).split())[:MAX_NAME_CHARS] or None
    if (text, payload, name) == (incoming.text, incoming.payload, incoming.display_name):
        return incoming
    return dataclasses.replace(incoming, text=text, payload=payload, display_name=name)
