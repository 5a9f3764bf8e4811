"""An item of the shown list named in words: "the second one", "nummer 2", "die erste stelle"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from bot.listing import action_label, item_buttons, item_number
from bot.messages import Button
from nlu.normalize import fold

MAX_WORDS = 10  # a longer message is a request of its own, not a pointer into the list
_ORDINAL_STEMS = {
    # German stems take the endings -e/-en/-er/-es/-em ("die zweite", "den ersten")
    "erst": 1, "zweit": 2, "dritt": 3, "viert": 4, "fuenft": 5, "sechst": 6, "siebt": 7,
    "siebent": 7, "acht": 8, "neunt": 9, "zehnt": 10, "letzt": -1,
}
_ENGLISH_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
}
# an ordinal counts only after an article ("die zweite", "the second"), never alone: "erste
# hilfe" is first aid, "second hand" a kind of shop
_ARTICLE = r"(?:der|die|das|den|dem|des|zur|zum|vom|beim|the|that|this)"
_GERMAN = "|".join(sorted(_ORDINAL_STEMS, key=len, reverse=True))
# ... and only where it ends the message or a word follows that points into a list ("the
# second one", "die zweite stelle", "den ersten bitte", "melde mich für den zweiten an") –
# never before anything else: "ab dem ersten januar", "für die erste schicht", "the first week"
_POINTING = (
    r"(?:one|ones|bitte|please|pls|davon|hier|da|there|of them|in the list|in der liste"
    r"|an|ab|aus|auf|fuer|for|to|und|and|anmelden|bewerben|apply|register|sign|details?"
    r"|zeigen|show|nehmen|take|waehlen|choose|loeschen|delete|schliessen|close|folgen|follow"
    r"|stelle|stellen|job|jobs|position|angebot|anzeige|posting|termin|abend|elternabend"
    r"|session|evening|laden|shop|geschaeft|store|gutschein|voucher|anfrage|request|eintrag"
    r"|item|entry|option|punkt|benachrichtigung|alert)"
)
_ORDINAL = re.compile(
    rf"\b{_ARTICLE}\s+(?:(?P<de>{_GERMAN})(?:e|en|er|es|em)|(?P<en>{'|'.join(_ENGLISH_ORDINALS)}))"
    rf"(?=\s*$|\s*[.,!?]|\s+{_POINTING}\b)"
)
_NUMBER = re.compile(r"\b(?:nummer|number|nr|no|item|punkt|eintrag)\.?\s*#?(?P<n>\d{1,3})\b")
_CARDINALS = {
    "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9, "zehn": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}
# a whole message that is only a number, typed as people do: "2.", "die 2 bitte", "zwei"
_BARE_NUMBER = re.compile(
    rf"(?:{_ARTICLE}\s+)?(?P<n>[0-9]{{1,3}}|{'|'.join(_CARDINALS)})\.?(?:\s+(?:bitte|please|pls))?"
)
# the next page asked for in words ("gibt es noch mehr?", "die nächsten", "any more?"), folded
MORE_REQUESTS = frozenset({
    "mehr", "weiter", "weitere", "noch mehr", "mehr anzeigen", "naechste seite", "mehr bitte",
    "weiter bitte", "weitere bitte", "noch mehr bitte", "zeig mehr", "zeig mir mehr",
    "zeige mehr", "zeig weitere", "gibt es noch mehr", "gibts noch mehr", "gibt es mehr",
    "gibt es weitere", "gibt es noch weitere", "noch welche", "gibt es noch welche",
    "hast du noch mehr", "hast du noch welche", "die naechsten", "die naechsten bitte",
    "naechste", "mehr davon", "noch mehr davon", "weitere anzeigen", "weitere ergebnisse",
    "more", "next", "show more", "show me more", "more please", "show me more please",
    "next page", "any more", "anymore", "any more please", "are there more",
    "are there any more", "is there more", "the next ones", "next ones", "more results",
    "more of them", "got more", "any others",
})
_ACTION_MATCH = 85  # a typed word this close to an action's label names that action


def named_number(text: str, last: int) -> int | None:
    """The item number a short message points at ("the second one" -> 2, "die letzte" -> last),
    or None when it names none or is too long to be only a pointer."""
    folded = fold(text.lower())
    if len(folded.split()) > MAX_WORDS:
        return None
    bare = _BARE_NUMBER.fullmatch(folded.strip(" !?"))
    if bare:
        said = bare.group("n")
        return _CARDINALS[said] if said in _CARDINALS else int(said)
    found = [_number_of(m) for m in _ORDINAL.finditer(folded)]
    found += [int(m.group("n")) for m in _NUMBER.finditer(folded)]
    if len(set(found)) != 1:  # none, or "the first and the second": not one item
        return None
    return last if found[0] == -1 else found[0]


def _number_of(match: re.Match[str]) -> int:
    if match.group("de"):
        return _ORDINAL_STEMS[match.group("de")]
    return _ENGLISH_ORDINALS[match.group("en")]


def item_reference(text: str, buttons: Sequence[Button]) -> str | None:
    """The typed form of a pointer to a list item: "2 Bewerben" for "apply for the second one"
    (the item's action whose label the text names), else "2" (what a bare number does: the
    item's details, or its action to confirm); None when the text points at no listed item."""
    numbers = [n for b in buttons if (n := item_number(b.label)) is not None]
    if not numbers:
        return None
    number = named_number(text, max(numbers))
    if number is None or number not in numbers:
        return None
    words = fold(text.lower()).split()
    for button in item_buttons(buttons, number):
        label = fold(action_label(button.label).lower())
        if any(fuzz.ratio(word, part) >= _ACTION_MATCH for word in words for part in label.split()):
            return button.label
    return str(number)


def asks_for_more(text: str) -> bool:
    """Whether a whole message asks for a list's next page ("gibt es noch mehr?", "any more?")."""
    return " ".join(re.sub(r"[^\w ]", " ", fold(text.lower())).split()) in MORE_REQUESTS
