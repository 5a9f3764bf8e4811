"""Signed button payloads: a pressed button must be one the bot offered in that chat.

Telegram sends back whatever callback data a client puts in a callback query, so the data
of every inline button is the payload plus an HMAC of (chat, payload) under the
installation's secret key (bot/keys.py). The dispatcher accepts a pressed button only with
a valid signature for the chat it was pressed in; a forged, altered or foreign payload is
refused like an expired button. Console and Matrix never send payloads: there the user
picks one of the buttons stored with the conversation state.
"""

from __future__ import annotations

import hmac

from bot.keys import keyed_hash

CALLBACK_LIMIT = 64  # bytes Telegram allows for callback data
SIGNATURE_LENGTH = 16  # hex characters of the HMAC (64 bits)
MAX_PAYLOAD = CALLBACK_LIMIT - SIGNATURE_LENGTH  # bytes left for action and arguments


def signature(secret: bytes, chat_id: str, payload: str) -> str:
    """The HMAC tag of a payload offered in a chat."""
    return keyed_hash(secret, "button", chat_id, payload, length=SIGNATURE_LENGTH)


def sign(secret: bytes, chat_id: str, payload: str) -> str:
    """Callback data for a button in a chat: signature followed by the payload (<= 64 bytes)."""
    data = signature(secret, chat_id, payload) + payload
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError("button payload too long to sign")
    return data


def verify(secret: bytes, chat_id: str, data: str) -> str | None:
    """The payload of signed callback data pressed in a chat, or None if it was not offered."""
    tag, payload = data[:SIGNATURE_LENGTH], data[SIGNATURE_LENGTH:]
    if len(tag) != SIGNATURE_LENGTH or not payload:
        return None
    expected = signature(secret, chat_id, payload).encode()
    if not hmac.compare_digest(tag.encode("utf-8", "surrogatepass"), expected):
        return None
    return payload
