"""The transport's own texts (the rest comes from the dispatcher through the catalogs).

Only the note about a message the bot could not decrypt is written by the transport, because
no dispatcher turn exists for an event nobody could read.
"""

from __future__ import annotations

UNDECRYPTABLE = {
    "de": (
        "Ich konnte eine deiner Nachrichten nicht entschlüsseln. Bitte schick sie noch einmal "
        "– falls das wieder passiert, verlasse den Raum und schreib mir in einem neuen Chat."
    ),
    "en": (
        "I could not decrypt one of your messages. Please send it again – if that happens "
        "again, leave this room and write to me in a new chat."
    ),
}


def undecryptable(language: str) -> str:
    """The note sent once when a message stayed unreadable past the grace period."""
    return UNDECRYPTABLE.get(language, UNDECRYPTABLE["de"])
