"""Rule-based entities: amount (EUR cents), quantity (numbers, number words), voucher_code."""

from __future__ import annotations

import re
from collections.abc import Sequence

from nlu.normalize import Token, tokenize

EXTRACTOR = "NumberParser"
VOUCHER_EXTRACTOR = "VoucherCodeParser"
VOUCHER_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # storage/vouchers.py draws from it

_SMALL = {
    # German (folded: fuenf, zwoelf, dreissig)
    "null": 0, "eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwoelf": 12, "dreizehn": 13,
    "vierzehn": 14, "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18,
    "neunzehn": 19, "zwanzig": 20, "dreissig": 30, "vierzig": 40, "fuenfzig": 50,
    "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90,
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
    # colloquial German
    "fuffzig": 50, "fuffzehn": 15,
}
_DE_UNIT = {"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7,
            "acht": 8, "neun": 9}
_DE_TENS = {"zwanzig": 20, "dreissig": 30, "vierzig": 40, "fuenfzig": 50, "sechzig": 60,
            "siebzig": 70, "achtzig": 80, "neunzig": 90}
_MULTIPLIERS = {"hundert": 100, "hundred": 100, "dutzend": 12, "dozen": 12}
_THOUSANDS = {"tausend", "thousand"}
_ARTICLES = {"a", "an", "ein", "eine", "einen", "einem", "einer"}  # only before a multiplier
_JOINERS = {"and", "und"}
_CURRENCY_WORDS = {"euro", "euros", "eur"}
# everyday words for euros: "dreißig tacken", "30 mäuse", "thirty quid", "20 bucks"
_SLANG_CURRENCY = {"tacken", "taler", "ocken", "maeuse", "kroeten", "euronen", "piepen",
                   "moneten", "quid", "bucks"}
# banknotes as nouns: "nen fuffi" = 50 €, "zwei zwanni" = 40 €, "einen zehner" = 10 €
_NOTES = {"fuenfer": 5, "zehner": 10, "zwanni": 20, "zwanziger": 20, "fuffi": 50, "fuffis": 50,
          "fuffies": 50, "fuenfziger": 50, "hunni": 100, "hunnis": 100, "hunderter": 100}
_NOTE_ARTICLES = {"nen", "n", "einen", "ein", "a"}
_NOT_MONEY_UNITS = {"uhr", "h", "mal", "prozent", "percent", "stueck", "pieces", "packungen"}

_NUM = r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:[.,]\d{1,2})?"
_AMOUNT_AFTER = re.compile(
    rf"(?<![\w.,])(?P<num>{_NUM})(?:,-+)?\s?(?P<cur>€|eur(?:o|os)?\b|euronen\b|cent\b|ct\b"
    r"|tacken\b|taler\b|ocken\b|m(?:ä|ae)use\b|kr(?:ö|oe)ten\b|piepen\b|moneten\b|quid\b|bucks\b)",
    re.IGNORECASE,
)
_AMOUNT_BEFORE = re.compile(rf"(?:€|\beur\b|\beuro\b)\s?(?P<num>{_NUM})(?![\d])", re.IGNORECASE)
_BARE_DECIMAL = re.compile(
    r"(?<![\w.,:/€-])(?P<num>\d{1,4}[.,]\d{2})(?![\w.,:/%]|\s?(?:uhr|h|€|eur)\b)",
    re.IGNORECASE,
)
_MONEY_CONTEXT = {
    "gutschein", "gutscheins", "gutscheine", "voucher", "vouchers", "einloesen", "abziehen",
    "abbuchen", "bezahlen", "zahlen", "zahlt", "betrag", "redeem", "deduct", "take", "pay",
    "pays", "paying", "amount", "giftcard", "gift", "card",
}
_MONTHS = r"jan|feb|m[aä]r|apr|mai|may|jun|jul|aug|sep|o[ck]t|nov|de[cz]"
_QUANTITY = re.compile(
    rf"(?<![\w.,:/€-])(?P<num>\d{{1,6}})"
    rf"(?![\w]|[.,:/]\d|\s?(?:uhr\b|h\b|%|€|eur|cent\b|ct\b|,-)|\.\s?(?:{_MONTHS}))",
    re.IGNORECASE,
)
_CODE_CHAR = "[2-9A-HJKMNP-TV-Z]"  # VOUCHER_ALPHABET: no I, L, O, U, 0, 1
_VOUCHER = re.compile(
    rf"(?<![\w-])(?P<a>{_CODE_CHAR}{{4}})(?P<sep>-?)(?P<b>{_CODE_CHAR}{{4}})(?![\w-])",
    re.IGNORECASE,
)


def _entity(entity: str, value: int | str, start: int, end: int, extractor: str) -> dict:
    return {"entity": entity, "value": value, "start": start, "end": end, "extractor": extractor}


def parse_decimal(raw: str) -> float:
    """Parse "12,50", "12.50", "1.000" or "1.000,50" (German or English notation)."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", raw):
        raw = raw.replace(".", "")
    return float(raw.replace(",", "."))


def german_number_word(word: str) -> int | None:
    """Value of a (folded) German number word, compounds too: "fuenfundzwanzig" -> 25."""
    if not word:
        return None
    if word in _SMALL:
        return _SMALL[word]
    for big, factor in (("tausend", 1000), ("hundert", 100)):
        head, found, tail = word.partition(big)
        if found:
            h = german_number_word(head) if head not in ("", "ein") else 1
            tail = tail.removeprefix("und")
            t = german_number_word(tail) if tail else 0
            if h is None or t is None:
                return None
            return h * factor + t
    unit, found, tens = word.partition("und")
    if found and unit in _DE_UNIT and tens in _DE_TENS:
        return _DE_UNIT[unit] + _DE_TENS[tens]
    return None


def number_words(tokens: Sequence[Token], i: int) -> tuple[int, int] | None:
    """Parse number words starting at tokens[i]; return (value, index after the last word)."""
    total = current = 0
    j = i
    seen = False
    n = len(tokens)
    while j < n:
        word = tokens[j].norm
        nxt = tokens[j + 1].norm if j + 1 < n else ""
        if word in _MULTIPLIERS:
            current = (current or 1) * _MULTIPLIERS[word]
        elif word in _THOUSANDS:
            total += (current or 1) * 1000
            current = 0
        elif not seen and word in _ARTICLES and (nxt in _MULTIPLIERS or nxt in _THOUSANDS):
            current = 1
        elif seen and word in _JOINERS and (nxt in _SMALL or german_number_word(nxt)):
            j += 1
            continue
        else:
            value = german_number_word(word)
            if value is None or (seen and current % 10 and value < 100):
                break
            current += value
        seen = True
        j += 1
    if not seen or j == i:
        return None
    return total + current, j


def _is_number_word(word: str) -> bool:
    return word in _MULTIPLIERS or word in _THOUSANDS or german_number_word(word) is not None


def _cents_after(text: str, tokens: Sequence[Token], end: int) -> tuple[int, int] | None:
    """The cents of "zwölf euro fünfzig", "10 euro 50", "five euros and fifty cents"."""
    i = next((k for k, t in enumerate(tokens) if t.start >= end), None)
    if i is None or text[end : tokens[i].start].strip():
        return None
    if tokens[i].norm in _JOINERS and i + 1 < len(tokens):
        i += 1
    tok = tokens[i]
    if tok.norm.isdigit() and len(tok.norm) <= 2 and text[tok.start : tok.end].isdigit():
        cents, j = int(tok.norm), i + 1
    elif _is_number_word(tok.norm):
        parsed = number_words(tokens, i)
        if parsed is None or parsed[0] >= 100:
            return None
        cents, j = parsed
    else:
        return None
    if j < len(tokens) and tokens[j].norm in ("cent", "cents", "ct"):
        j += 1
    elif j < len(tokens) and tokens[j].norm in ("uhr", "h", "mal", "prozent", "percent"):
        return None
    return cents, tokens[j - 1].end


def _with_cents(text: str, tokens: Sequence[Token], entity: dict) -> dict:
    if entity["value"] % 100 == 0:
        more = _cents_after(text, tokens, entity["end"])
        if more is not None:
            entity["value"] += more[0]
            entity["end"] = more[1]
    return entity


def find_amounts(text: str, tokens: Sequence[Token]) -> list[dict]:
    """Money in EUR as integer cents: "25 €", "12,50 Euro", "€5", "fifty euros", "50 cent".

    A bare "12,50" / "12.50" counts as money only in a message about vouchers or paying.
    """
    found = []
    money_context = any(t.norm in _MONEY_CONTEXT for t in tokens)
    if money_context:
        for m in _BARE_DECIMAL.finditer(text):
            found.append(_entity("amount", round(parse_decimal(m.group("num")) * 100),
                                 m.start(), m.end(), EXTRACTOR))
    for m in _AMOUNT_AFTER.finditer(text):
        value = parse_decimal(m.group("num"))
        cent = m.group("cur").lower() in ("cent", "ct")
        cents = value if cent else value * 100
        entity = _entity("amount", round(cents), m.start(), m.end(), EXTRACTOR)
        found.append(entity if cent else _with_cents(text, tokens, entity))
    for m in _AMOUNT_BEFORE.finditer(text):
        cents = round(parse_decimal(m.group("num")) * 100)
        found.append(_entity("amount", cents, m.start(), m.end(), EXTRACTOR))
    i = 0
    while i < len(tokens):
        word = tokens[i].norm
        parsed = number_words(tokens, i) if _is_number_word(word) or word in _ARTICLES else None
        after = tokens[parsed[1]].norm if parsed and parsed[1] < len(tokens) else ""
        if parsed and (after in _CURRENCY_WORDS or after in _SLANG_CURRENCY):
            value, j = parsed
            entity = _entity("amount", value * 100, tokens[i].start, tokens[j].end, EXTRACTOR)
            found.append(_with_cents(text, tokens, entity))
            i = j + 1
        else:
            i += 1
    found += _banknotes(tokens)
    if money_context:
        found += _euro_cent_pairs(text, tokens)
    return found


def _banknotes(tokens: Sequence[Token]) -> list[dict]:
    """ "nen fuffi" (50 €), "zwei zwanni" (40 €), "einen zehner" (10 €): a note after an
    article or a count."""
    found = []
    for k, tok in enumerate(tokens):
        if tok.norm not in _NOTES or k == 0:
            continue
        before = tokens[k - 1]
        count = german_number_word(before.norm) if before.norm not in _NOTE_ARTICLES else 1
        if count is None and before.norm.isdigit() and len(before.norm) <= 2:
            count = int(before.norm)
        if count:
            found.append(_entity("amount", count * _NOTES[tok.norm] * 100, before.start, tok.end,
                                 EXTRACTOR))
    return found


def _euro_cent_pairs(text: str, tokens: Sequence[Token]) -> list[dict]:
    """ "neun neunundneunzig" (9,99 €), "zwölf fuffzig" (12,50 €): euros and cents in words,
    without a currency word – only in a message about money."""
    found = []
    i = 0
    while i < len(tokens):
        first = number_words(tokens, i) if _is_number_word(tokens[i].norm) else None
        if first is None or first[1] >= len(tokens) or first[0] > 999:
            i += 1
            continue
        euros, j = first
        second = number_words(tokens, j) if _is_number_word(tokens[j].norm) else None
        nxt = tokens[second[1]].norm if second and second[1] < len(tokens) else ""
        if second is None or not 1 <= second[0] <= 99 or nxt in _NOT_MONEY_UNITS:
            i = j
            continue
        cents, k = second
        found.append(_entity("amount", euros * 100 + cents, tokens[i].start, tokens[k - 1].end,
                             EXTRACTOR))
        i = k
    return found


# "nach 10 jahren", "for 3 weeks": a span of time, not a count of things
_TIME_SPANS = {
    "jahr", "jahre", "jahren", "monat", "monate", "monaten", "woche", "wochen", "tag", "tage",
    "tagen", "stunde", "stunden", "minute", "minuten", "year", "years", "month", "months",
    "week", "weeks", "day", "days", "hour", "hours", "minutes",
}
# "artikel 15", "paragraph 3", "nr 7": a reference, not a count
_REFERENCES = {"artikel", "art", "paragraph", "paragraf", "absatz", "nr", "nummer", "article",
               "section", "number", "seite", "page"}
# "a good one", "not that one", "the one looking": "one" as a pronoun
_PRONOUN_ONE_AFTER = {"a", "the", "that", "this", "which", "any", "no", "good", "another",
                      "every", "each", "only", "other", "right", "wrong", "new", "same", "nice"}


def _a_count(tokens: Sequence[Token], start: int, end: int) -> bool:
    """Whether the number at start..end counts things (not a time span, reference, pronoun)."""
    before = next((t for t in reversed(tokens) if t.end <= start), None)
    after = next((t for t in tokens if t.start >= end), None)
    first = next((t for t in tokens if t.start >= start), None)
    if after is not None and after.norm in _TIME_SPANS:
        return False
    if before is not None and before.norm in _REFERENCES:
        return False
    return not (
        first is not None and first.norm == "one" and first.end == end
        and before is not None and before.norm in _PRONOUN_ONE_AFTER
    )


def find_quantities(text: str, tokens: Sequence[Token]) -> list[dict]:
    """Whole numbers as digits or words ("200", "zwei", "a dozen"); not times, dates or codes,
    spans of time ("10 jahre"), references ("artikel 15") or the pronoun "one"."""
    return [q for q in _quantities(text, tokens) if _a_count(tokens, q["start"], q["end"])]


def _quantities(text: str, tokens: Sequence[Token]) -> list[dict]:
    found = [
        _entity("quantity", int(m.group("num")), m.start(), m.end(), EXTRACTOR)
        for m in _QUANTITY.finditer(text)
    ]
    i = 0
    while i < len(tokens):
        word = tokens[i].norm
        parsed = number_words(tokens, i) if _is_number_word(word) or word in _ARTICLES else None
        if parsed:
            value, j = parsed
            found.append(_entity("quantity", value, tokens[i].start, tokens[j - 1].end,
                                 EXTRACTOR))
            i = j
        else:
            i += 1
    return found


_SPACED_VOUCHER = re.compile(
    rf"(?<![\w-])(?P<a>{_CODE_CHAR}{{4}}) (?P<b>{_CODE_CHAR}{{4}})(?![\w-])", re.IGNORECASE)
# a message about a voucher: "was ist noch drauf auf k7qf 2m9x", "gutschein k7qf 2m9x einlösen"
_VOUCHER_CONTEXT = re.compile(
    r"gutschein|voucher|code|guthaben|balance|einl(?:ö|oe)s|redeem|drauf|gift ?card|restwert"
    r"|karte\b|card\b", re.IGNORECASE)
_VOWELS = frozenset("AE")  # the alphabet's only vowels: a half without them is no word


def _spaced_half_ok(half: str, other: str) -> bool:
    """A half of a "XXXX XXXX" code: with a digit, or letters that make no word ("KMQF")
    next to a half with a digit."""
    if any(ch.isdigit() for ch in half):
        return True
    return any(ch.isdigit() for ch in other) and not _VOWELS & set(half)


def find_voucher_codes(text: str) -> list[dict]:
    """Voucher codes XXXX-XXXX of the bot's alphabet, any case; without "-" only with a digit.

    "XXXX XXXX" (a space inside) counts in a message about a voucher when both halves have a
    digit, or one has and the other is letters without a vowel: "k7qf 2m9x", "kmqf 2m9x";
    not "ganz 2m9x" or "test mode".
    """
    found = []
    if _VOUCHER_CONTEXT.search(text):
        for m in _SPACED_VOUCHER.finditer(text):
            a, b = m.group("a").upper(), m.group("b").upper()
            if not (a + b).isdigit() and _spaced_half_ok(a, b) and _spaced_half_ok(b, a):
                found.append(_entity("voucher_code", f"{a}-{b}", m.start(), m.end(),
                                     VOUCHER_EXTRACTOR))
    for m in _VOUCHER.finditer(text):
        code = (m.group("a") + m.group("b")).upper()
        if not m.group("sep") and (code.isalpha() or code.isdigit()):
            continue  # an eight-letter word ("tschuess") or a plain number
        if code.endswith("MASK"):
            continue  # "ffp2-mask"
        found.append(_entity("voucher_code", f"{code[:4]}-{code[4:]}", m.start(), m.end(),
                             VOUCHER_EXTRACTOR))
    return found


def find_all(text: str, tokens: Sequence[Token] | None = None) -> list[dict]:
    """Amounts, quantities and voucher codes (overlaps are left to the caller)."""
    if tokens is None:
        tokens = tokenize(text)
    return find_amounts(text, tokens) + find_quantities(text, tokens) + find_voucher_codes(text)
