"""Jobs: search open positions, job alerts, applications, employer postings.

```mermaid
stateDiagram-v2
    [*] --> results: find_job (field, district, type, words)
    results --> results: More, a follow-up ("und teilzeit?"), "zurück zu den jobs"
    results --> details: Details
    details --> applying: Apply ("ich möchte mich bewerben")
    results --> applying: Apply ("ich möchte mich bewerben": which one)
    [*] --> explained: "wie bewerbe ich mich?" with no job in view
    applying --> sent: message, (phone or e-mail), consent to share the name, (name), confirm
    [*] --> posting: post_job (employer role)
    posting --> published: title, field, district, type, description, contact, confirm
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from functools import cache
from itertools import groupby
from typing import Any, ClassVar

from apscheduler.triggers.cron import CronTrigger
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from stop_words import get_stop_words

from bot import listing
from bot.context import Context
from bot.follow_up import FRESH, begins_as_follow_up, is_continued, stale
from bot.forms import Choice, Form, Invalid, Slot, bare_words, free_text
from bot.i18n import Translate, format_time, translator
from bot.listing import Item, item_number, stored_buttons
from bot.messages import Button, Reply
from bot.notify import broadcast, notify
from bot.registry import button, command, deep_link, intent, menu_entry, payload, split_payload
from bot.scheduler import recurring, runtime
from storage import jobs
from storage.base import utcnow
from storage.districts import all_districts
from storage.jobs import EMPLOYMENT_TYPES, JOB_FIELDS, JobListing, JobPosting, JobQuery

PAGE = 3
DIGEST_SIZE = 5
DIGEST_BATCH = 500
# what people say around a job search ("hallo, ich wollte mal fragen ob es stellen gibt")
SEARCH_TALK = """
suche suchen sucht jobs arbeit stelle stellen stellenangebot stellenangebote fuer gibt habt
hast bitte gerne gern neue neuen stadt dortmund irgendwas position positions vacancy vacancies
openings search city hallo guten fragen frage liebsten gibts wuerde möchte moechte interessiere
interesse wondering morgen bereich bereichen richtung branche
"""
# the chat around any request: greetings, thanks, politeness, fillers, colloquial short forms
# and the adverbs the stop-words library lacks ("danke! gibt es auch jobs im einzelhandel?",
# "Hallo liebes Team, … seit kurzem …", "am besten was mit kindern", "wie wäre es mit …")
CHAT_TALK = """
hallo hallöchen servus moin moinsen huhu tach hello hiya heya greetings
danke dankeschön vielen dank merci thanks thank thx bitteschön please pls plz
liebe lieber liebes team leute geehrte geehrter damen herren dear folks guys
okay cool super prima toll klasse perfekt nice great awesome alright
also halt eben echt eigentlich irgendwie vielleicht wirklich genau gerade bereits etwa
seit kurzem neulich momentan aktuell derzeit zurzeit besten bestens wäre wärs wär
gibts gibt's habs maybe anything something really actually currently recently
"""
# a life story and the wishes around a search ("habe 20 jahre lang im einzelhandel gearbeitet",
# "in der nähe von hörde", "pflegejobs würden mich interessieren")
STORY_TALK = """
jahr jahre jahren lang lange langem gearbeitet arbeite arbeitete arbeiten tätig erfahrung
erfahrungen berufserfahrung möglichst nähe nahe umgebung umkreis interessieren interessiert
interessant etwas passt passend passendes years year long worked working experience near
nearby close interested interesting possible preferably
"""
# asking to apply or how ("wie funktioniert die bewerbung", "i want to apply"), liking the job
# in view ("die sieht gut aus", "sounds fine") and going back to the last search ("zeig mir
# nochmal die jobs"): no search words either
APPLY_TALK = """
bewerben bewerbe bewirb bewerbung apply applying application funktioniert funktioniere klappt
works zurück zurueck nochmal wieder zeig zeige zeigen again back show
sieht aussieht aussehen klingt klingen gefällt gefaellt gefallen nehme nehmen sounds fine
"""
# words that never search: the German and English function words of the stop-words library,
# the search talk and the chat talk above
STOPWORDS = (
    set(get_stop_words("de"))
    | set(get_stop_words("en"))
    | set(SEARCH_TALK.split())
    | set(CHAT_TALK.split())
    | set(STORY_TALK.split())
    | set(APPLY_TALK.split())
)
UMLAUTS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))  # "naehe", "wuerde": typed without umlauts
# a letter's closing and what follows it ("… in der Nordstadt gibt. Grüße, Petra")
SIGN_OFF = re.compile(
    r"(?<=[.!?,\n])\s*(?:(?:viele|liebe|beste|herzliche|freundliche|mit freundlichen)\s+)?"
    r"(?:grüße|grüßen|grüsse|grüssen|gruß|gruss|lg|vg|mfg|regards|best wishes|cheers)\b.{0,40}$",
    re.IGNORECASE | re.DOTALL,
)
# the job words whose typos are talk too ("ich suche abeit"), not words to search
JOB_TALK = ("arbeit", "stelle", "stellen", "stellenangebote", "suche", "suchen")
MIN_TYPO_LEN = 5  # "plege" is Pflege; shorter words are too alike to guess
MAX_WORDS = 3
# "jobs im supermarkt", "arbeit im restaurant": a shop category names the job field
FIELD_OF_SHOP_CATEGORY = {
    "bakery": "retail",
    "grocery": "retail",
    "fashion": "retail",
    "bookshop": "retail",
    "florist": "retail",
    "bike": "retail",
    "pharmacy": "retail",
    "cafe": "gastronomy",
    "restaurant": "gastronomy",
}
EMAIL = re.compile(r"[^\s@,;:()<>]+@[^\s@,;:()<>]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.@])\+?\(?\d[\d /()-]{4,}\d(?![\w@])")
YEAR_SPAN = re.compile(r"(?:19|20)\d\d\s*[-–/]\s*(?:19|20)\d\d")  # "2015 - 2023": no number
MIN_PHONE_DIGITS = 6
MAX_CONTACT = 200


def contacts_in(text: str) -> list[str]:
    """The e-mail addresses and phone numbers a text names, in text order ("meine nummer ist
    0176 1234567" -> ["0176 1234567"]; a span of years is no phone number)."""
    found = [(m.start(), m.group()) for m in EMAIL.finditer(text)]
    for m in PHONE.finditer(text):
        number = m.group().strip()
        if sum(c.isdigit() for c in number) >= MIN_PHONE_DIGITS and not YEAR_SPAN.fullmatch(
            number
        ):
            found.append((m.start(), number))
    return [contact for _start, contact in sorted(found)]


def has_contact(text: str) -> bool:
    """Whether a message names an e-mail address or a phone number."""
    return bool(contacts_in(text))


def _contact(_ctx: Context, text: str) -> str:
    """A posting's contact: the answer as written ("Frau Meier, 0231 123456"), if it names an
    e-mail address or a phone number."""
    text = text.strip()
    if not has_contact(text) or len(text) > MAX_CONTACT:
        raise Invalid("jobs.post.bad_contact")
    return text


def _applicant_contact(_ctx: Context, text: str) -> str:
    """An applicant's contact: the addresses and numbers the answer names ("Tel. 0231 123456",
    "per Mail: anna@example.org"), joined by " · "."""
    found = contacts_in(text)
    if not found or len(text) > MAX_CONTACT:
        raise Invalid("jobs.post.bad_contact")
    return CONTACT_SEPARATOR.join(found)


CONTACT_SEPARATOR = " · "


def _field_choices_sync() -> list[Choice]:
    return [Choice(f, f"field.{f}") for f in JOB_FIELDS]


async def field_choices(_ctx: Context) -> list[Choice]:
    """The job fields as choices."""
    return _field_choices_sync()


async def alert_field_choices(_ctx: Context) -> list[Choice]:
    """The job fields plus 'any field', for alerts."""
    return [*_field_choices_sync(), Choice("any", "field.any")]


async def type_choices(_ctx: Context) -> list[Choice]:
    """The employment types as choices."""
    return [Choice(t, f"etype.{t}") for t in EMPLOYMENT_TYPES]


async def district_choices(ctx: Context) -> list[Choice]:
    """The city's districts as choices (labels are the names themselves)."""
    return [Choice(d.name, d.name) for d in await all_districts(ctx.db)]


async def own_employers(ctx: Context) -> list[jobs.Employer]:
    """The employers (organisations) the user holds the employer role for."""
    return [await jobs.get_or_create_employer(ctx.db, org) for org in ctx.orgs("employer")]


async def org_choices(ctx: Context) -> list[Choice]:
    """The organisations the employer may post for, by employer id (short, any name fits)."""
    return [Choice(str(employer.id), employer.name) for employer in await own_employers(ctx)]


def describe_query(ctx: Context, query: JobQuery) -> str:
    """A query in words: 'nursing · Innenstadt · part-time'."""
    parts = []
    if query.field:
        parts.append(ctx.t(f"field.{query.field}"))
    if query.employment_type:
        parts.append(ctx.t(f"etype.{query.employment_type}"))
    if query.district:
        parts.append(describe_districts(ctx, query))
    parts += [ctx.t("jobs.word", word=w) for w in query.words]
    return " · ".join(parts) or ctx.t("jobs.all_positions")


def describe_districts(ctx: Context, query: JobQuery) -> str:
    """The query's districts in words: 'Hörde', 'Hörde oder Aplerbeck'."""
    *first, last = query.districts
    return ctx.t("jobs.districts_either", districts=", ".join(first), last=last) if first else last


def typo_of(word: str, vocabulary: Iterable[str]) -> str | None:
    """The vocabulary word this one is a typo of – one letter off, two from ten letters on,
    five letters at least ("plege" -> "pflege") – or None (also for the word itself)."""
    if len(word) < MIN_TYPO_LEN:
        return None
    edits = 1 if len(word) < 10 else 2
    best = process.extractOne(word, list(vocabulary), scorer=OSA.distance, score_cutoff=edits)
    return best[0] if best is not None and best[1] > 0 else None


@cache
def _field_words() -> dict[str, str]:
    """The words of the job fields' names in German and English ("pflege", "warehouse"), each
    with its field, for typos the NLU does not take."""
    words: dict[str, str] = {}
    for language in ("de", "en"):
        t = translator(language)
        for field in JOB_FIELDS:
            for word in re.findall(r"[\wäöüß]{5,}", t(f"field.{field}").lower()):
                words.setdefault(word, field)
    return words


def same_word(a: str, b: str) -> bool:
    """Whether two words are one in another inflection ("kinder", "kindern")."""
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and len(long) - len(short) <= 2


def _distinct(words: Iterable[str]) -> list[str]:
    """The words, each once however inflected (the shortest form kept, where it came first)."""
    kept: list[str] = []
    for word in words:
        other = next((i for i, k in enumerate(kept) if same_word(word, k)), None)
        if other is None:
            kept.append(word)
        elif len(word) < len(kept[other]):
            kept[other] = word
    return kept


def _free_words(ctx: Context) -> list[str]:
    """The message's words that may search: not in an entity, no talk, no signature."""
    text = ctx.incoming.text
    for entity in sorted(ctx.entities, key=lambda e: -e["start"]):
        text = text[: entity["start"]] + " " + text[entity["end"] :]
    text = SIGN_OFF.sub(" ", text)
    words = re.findall(r"[\wäöüß-]{4,}", text.lower())
    return _distinct(w for w in words if not is_talk(w) and not typo_of(w, JOB_TALK))


def is_talk(word: str) -> bool:
    """Whether a lower-case word is talk, not a search word, also typed without umlauts
    ("naehe" is "nähe")."""
    with_umlauts = word
    for plain, umlaut in UMLAUTS:
        with_umlauts = with_umlauts.replace(plain, umlaut)
    return word in STOPWORDS or with_umlauts in STOPWORDS


def query_from_message(ctx: Context) -> JobQuery:
    """The search criteria in the message's entities and remaining words (a field's name with
    a typo the NLU missed names the field: "arbeit in der plege" is nursing)."""
    category = ctx.entity("shop_category", any_intent=True)
    field = ctx.entity("job_field") or FIELD_OF_SHOP_CATEGORY.get(category)
    words = _free_words(ctx)
    if field is None:
        typos = {w: typo_of(w, _field_words()) for w in words}
        field = next((_field_words()[t] for t in typos.values() if t), None)
        words = [w for w in words if not typos[w]]
    districts = list(dict.fromkeys(e["value"] for e in ctx.entities if e["entity"] == "location"))
    return JobQuery(
        field=field,
        district=districts[0] if districts else None,
        employment_type=ctx.entity("employment_type"),
        words=tuple(words[:MAX_WORDS]),
        also_districts=tuple(districts[1:]),
    )


def job_line(t: Translate, job: JobPosting | JobListing) -> str:
    """A posting in two lines: title; employer · district · type."""
    return (
        f"{job.title}\n{job.employer_name} · {job.district} · {t(f'etype.{job.employment_type}')}"
    )


async def _results(ctx: Context, query: JobQuery, offset: int) -> list[Reply]:
    page = await jobs.search(ctx.db, query, offset=offset, limit=PAGE)
    unmatched: tuple[str, ...] = ()  # words that found nothing: said, then searched without
    if page.total == 0 and query.words:
        unmatched = query.words
        query = replace(query, words=())
        page = await jobs.search(ctx.db, query, offset=offset, limit=PAGE)
    elif page.unmatched_words:  # words that only ranked and are in no result: said too
        unmatched = page.unmatched_words
        query = replace(query, words=tuple(w for w in query.words if w not in unmatched))
    if ctx.state.get("job_query") != query.to_dict() or stale(ctx.state.get("job_query_at"),
                                                               FRESH):
        ctx.state["job_query"] = query.to_dict()  # the same search again within a minute
        ctx.state["job_query_at"] = utcnow().isoformat()  # leaves the state unwritten
    if page.total == 0:
        return [
            Reply(
                ctx.t("jobs.none", query=describe_query(ctx, query)),
                [Button(ctx.t("button.alert_me"), "job.alert")],
            )
        ]
    header = ""
    if offset == 0:
        key = "jobs.found_widened" if page.widened_district else "jobs.found"
        shown = replace(query, district=None, also_districts=()) if page.widened_district else query
        district = describe_districts(ctx, query) if query.district else ""
        header = ctx.t(key, count=page.total, query=describe_query(ctx, shown), district=district)
    if unmatched:
        words = ", ".join(ctx.t("jobs.word", word=w) for w in unmatched)
        header = "\n".join(filter(None, [ctx.t("jobs.words_unmatched", words=words), header]))
    items = [
        Item(
            job_line(ctx.t, job),
            [
                Button(ctx.t("button.details"), payload("job.details", job.id)),
                Button(ctx.t("button.apply"), payload("job.apply", job.id)),
            ],
        )
        for job in page.jobs
    ]
    footer = (
        [Button(ctx.t("button.more"), payload("job.more", offset + PAGE))] if page.has_more else []
    )
    footer.append(Button(ctx.t("button.alert_me"), "job.alert"))
    last = offset + len(page.jobs)
    shown = f"{offset + 1}–{last}" if last > offset + 1 else str(last)
    summary = ctx.t("jobs.page", shown=shown, total=page.total) if page.total > 1 else ""
    return [listing.page(header, items, footer=summary, buttons=footer, first=offset + 1)]


_MY_APPLICATIONS = re.compile(r"\b(meine|my)\s+(bewerbung|application)", re.IGNORECASE)
SEARCH_MEMORY = timedelta(minutes=30)  # how long "und teilzeit?" narrows the last search
APPLY_WORDS = re.compile(r"\b(bewerb\w*|bewirb|apply|applying|application)\b", re.IGNORECASE)
HOW_WORDS = re.compile(r"\b(wie|how)\b", re.IGNORECASE)
# a follow-up that narrows the last search: one beginning as any follow-up does ("und
# teilzeit?", "only part-time", "just the ones in hörde pls", follow_up.begins_as_follow_up),
# or asking for more of the same ("hast du was in hörde?", "any in hörde?")
ASKS_FOR_MORE = re.compile(
    r"^\W*(?:hast du|habt ihr|gibt es auch|gibts auch|any|do you have)\b", re.IGNORECASE
)


def narrows_last_search(text: str) -> bool:
    """Whether a message begins the way a follow-up of a search does."""
    return begins_as_follow_up(text) or ASKS_FOR_MORE.match(text) is not None


# a job of the list named while applying in words: "die erste sieht gut aus", "the second
# one", "nummer 2", "die 2"
NAMED_ITEM = re.compile(
    r"\b(?:(?:(?:der|die|das|den|dem|the)\s+)?(?:(?P<de>erst|zweit|dritt)(?:e|en|er|es|em)"
    r"|(?P<en>first|second|third))|(?:nummer|number|nr|no|die|den|the)\.?\s*#?(?P<n>\d{1,2}))\b",
    re.IGNORECASE,
)
ORDINALS = {"erst": 1, "zweit": 2, "dritt": 3, "first": 1, "second": 2, "third": 3}
BACK_TO_SEARCH = re.compile(
    r"\b(zurück|zurueck|nochmal|noch mal|wieder|again|back)\b", re.IGNORECASE
)


@intent("find_job", follow_ups=True)
async def find_job(ctx: Context) -> list[Reply]:
    """Show the best matching open positions for the entities and words of the message
    ("meine bewerbungen": the user's own applications; an employer asking about their
    postings or the applications to them: those)."""
    asked = await employer_request(ctx)
    if asked is not None:
        return asked
    if _MY_APPLICATIONS.search(ctx.incoming.text):
        ctx.private = True  # as /myapplications: personal, never shown in a group
        return await my_applications(ctx)
    query = query_from_message(ctx)
    if APPLY_WORDS.search(ctx.incoming.text) and (
        query == JobQuery() or apply_button_named(ctx) is not None
    ):
        return await apply_in_words(ctx)
    return await _results(ctx, with_last_search(ctx, query), 0)


def last_search(ctx: Context) -> JobQuery | None:
    """The criteria of the search shown within SEARCH_MEMORY, if any."""
    if stale(ctx.state.get("job_query_at"), SEARCH_MEMORY):
        return None
    return JobQuery.from_dict(ctx.state.get("job_query") or {})


def with_last_search(ctx: Context, query: JobQuery) -> JobQuery:
    """The query, or the last search narrowed by it: a follow-up naming only a type or
    districts ("und teilzeit?", "hast du was in hörde?") keeps the last search's other
    criteria; "zeig mir nochmal die jobs" is the last search again."""
    last = last_search(ctx)
    if last is None:
        return query
    text = ctx.incoming.text
    if query == JobQuery() and BACK_TO_SEARCH.search(text):
        return last
    only_filters = query.field is None and not query.words and query != JobQuery()
    if not (only_filters and (narrows_last_search(text) or is_continued(ctx))):
        return query
    narrowed = replace(last, employment_type=query.employment_type or last.employment_type)
    if query.district:
        narrowed = replace(narrowed, district=query.district, also_districts=query.also_districts)
    return narrowed


def apply_buttons_in_view(ctx: Context) -> list[Button]:
    """The Apply buttons of the job or list in view: the last turn's, else (within
    SEARCH_MEMORY) the list page left for an item's details."""
    kept = ["buttons", "list_buttons"] if last_search(ctx) is not None else ["buttons"]
    for key in kept:
        offered = [
            b for b in stored_buttons(ctx.state.get(key))
            if split_payload(b.payload)[0] == "job.apply"
        ]
        if offered:
            return offered
    return []


def item_named(text: str) -> int | None:
    """The list item a message names in words ("die erste" -> 1, "the second" -> 2, "nummer 2",
    "die 2"), or None when it names none or more than one."""
    found = {
        int(m["n"]) if m["n"] else ORDINALS[(m["de"] or m["en"]).lower()]
        for m in NAMED_ITEM.finditer(text)
    }
    return found.pop() if len(found) == 1 else None


def apply_button_named(ctx: Context) -> Button | None:
    """The Apply button in view of the list item the message names ("ja, die erste sieht gut
    aus, ich will mich bewerben" -> "1 Bewerben"), if any."""
    number = item_named(ctx.incoming.text)
    if number is None:
        return None
    return next((b for b in apply_buttons_in_view(ctx) if item_number(b.label) == number), None)


async def apply_in_words(ctx: Context) -> list[Reply]:
    """Applying asked for in words ("ich möchte mich bewerben", "wie bewerbe ich mich?"): the
    application to the job in view or the list item named ("die erste"); under a list, which
    of its jobs; else how applying works."""
    named = apply_button_named(ctx)
    offered = [named] if named is not None else apply_buttons_in_view(ctx)
    if len({b.payload for b in offered}) == 1:
        ctx.private = True  # as the Apply button: the form is personal
        return await start_application(ctx, int(split_payload(offered[0].payload)[1][0]))
    if offered and not HOW_WORDS.search(ctx.incoming.text):
        return [Reply(ctx.t("button.which"), offered)]
    buttons = offered or [Button(ctx.t("menu.jobs"), "jobs.search")]
    return [Reply(ctx.t("jobs.apply.how"), buttons)]


@command("myapplications", help_key="help.cmd.myapplications", private=True)
async def my_applications(ctx: Context, _args: str = "") -> list[Reply]:
    """The user's own applications: the posting, when sent, whether it is still open."""
    found = await jobs.applications_of_user(ctx.db, ctx.user.id)
    if not found:
        return [Reply(ctx.t("jobs.my_applications.none"))]
    items = [
        Item(
            ctx.t(
                "jobs.my_applications.item",
                title=application.job.title,
                employer=application.job.employer.name,
                when=format_time(application.created_at, ctx.lang, ctx.config.city.tz),
                state=ctx.t(f"jobs.state.{application.job.status}"),
            )
        )
        for application in found
    ]
    return [listing.page(ctx.t("jobs.my_applications.list", count=len(found)), items)]


@button("jobs.search")
async def search_button(ctx: Context) -> list[Reply]:
    """The menu's job button: the newest open positions."""
    return await _results(ctx, JobQuery(), 0)


@button("job.more")
async def more(ctx: Context, offset: int) -> list[Reply]:
    """The next page of the last search."""
    query = JobQuery.from_dict(ctx.state.get("job_query") or {})
    return await _results(ctx, query, max(offset, 0))


@deep_link("job")
@button("job.details")
async def details(ctx: Context, job_id: int) -> list[Reply]:
    """Everything about one open posting (a closed one is only said to be closed)."""
    job = await jobs.get_job(ctx.db, job_id)
    if job is None:
        return [Reply(ctx.t("jobs.not_found"))]
    if job.status != jobs.OPEN:
        return [Reply(ctx.t("jobs.closed"))]
    posted = format_time(job.created_at, ctx.lang, ctx.config.city.tz)
    text = ctx.t(
        "jobs.details",
        title=job.title,
        employer=job.employer.name,
        district=job.district,
        field=ctx.t(f"field.{job.field}"),
        type=ctx.t(f"etype.{job.employment_type}"),
        description=job.description,
        contact=job.contact,
        posted=posted,
    )
    return [Reply(text, [Button(ctx.t("button.apply"), payload("job.apply", job.id))])]


async def consent_choices(_ctx: Context) -> list[Choice]:
    """Share my name with the employer, or not."""
    return [Choice("yes", "choice.yes_share"), Choice("no", "choice.no_share")]


class ApplicationForm(Form):
    """Apply to a posting: a message to the employer and consent to share the name."""

    name = "job.apply"
    slots: ClassVar[list[Slot]] = [
        Slot("message", "jobs.apply.ask_message", parse=free_text(1000, min_length=10)),
        Slot(  # the employer must be able to answer: asked when the message names no way
            "contact",
            "jobs.apply.ask_contact",
            parse=_applicant_contact,
            ask_if=lambda _ctx, v: not has_contact(v.get("message", "")),
        ),
        Slot("share_name", "jobs.apply.ask_consent", choices=consent_choices),
        Slot(
            "name",
            "jobs.apply.ask_name",
            parse=free_text(100),
            ask_if=lambda ctx, v: v.get("share_name") == "yes" and not ctx.user.display_name,
        ),
    ]

    @classmethod
    async def gone(cls, ctx: Context, args: dict[str, Any]) -> str | None:
        """'jobs.closed' once the posting applied to was closed meanwhile: the next step ends
        the form with it, before more is typed."""
        job = await jobs.get_job(ctx.db, args["job_id"])
        return None if job is not None and job.status == jobs.OPEN else "jobs.closed"

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The application as it will be sent."""
        name = values.get("name") or ctx.user.display_name
        shared = name if values["share_name"] == "yes" else ctx.t("jobs.apply.anonymous")
        return ctx.t(
            "jobs.apply.summary", title=args["title"], message=_message(ctx, values), name=shared
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store the application for the employer."""
        job = await jobs.get_job(ctx.db, args["job_id"])
        if job is None or job.status != jobs.OPEN:
            return [Reply(ctx.t("jobs.closed"))]
        if await jobs.find_application(ctx.db, job.id, ctx.user.id):
            return [Reply(ctx.t("jobs.apply.already"))]
        name = (
            (values.get("name") or ctx.user.display_name) if values["share_name"] == "yes" else None
        )
        message = _message(ctx, values)
        await jobs.apply(ctx.db, job, ctx.user.id, message=message, applicant_name=name)
        return [Reply(ctx.t("jobs.apply.sent", title=job.title, employer=job.employer.name))]


def _message(ctx: Context, values: dict[str, Any]) -> str:
    """The application's text for the employer: the message, and the contact asked for – marked
    with a sign, not a word, as the employer may read another language than the applicant."""
    contact = values.get("contact")
    if not contact:
        return str(values["message"])
    signed = CONTACT_SEPARATOR.join(
        f"{'✉' if '@' in part else '☎'} {part}" for part in str(contact).split(CONTACT_SEPARATOR)
    )
    return f"{values['message']}\n{signed}"


@button("job.apply", private=True)
async def start_application(ctx: Context, job_id: int) -> list[Reply]:
    """Begin an application to a posting."""
    job = await jobs.get_job(ctx.db, job_id)
    if job is None or job.status != jobs.OPEN:
        return [Reply(ctx.t("jobs.closed"))]
    if await jobs.find_application(ctx.db, job.id, ctx.user.id):
        return [Reply(ctx.t("jobs.apply.already"))]
    intro = Reply(ctx.t("jobs.apply.intro", title=job.title, employer=job.employer.name))
    return [intro, *await ctx.start_form(ApplicationForm, job_id=job.id, title=job.title)]


IMMEDIATE_FIELDS = ("nursing", "care_for_elderly")
_SAYS_NOW = re.compile(
    r"\b(sofort|gleich|umgehend|so schnell wie möglich|schnellstmöglich|immediately"
    r"|instantly|right away|straight away|at once|as soon as possible|asap|as they come)\b"
)
_SAYS_DAILY = re.compile(
    r"\b(täglich|taeglich|einmal am tag|einmal pro tag|jeden tag|am tag gesammelt|gesammelt"
    r"|tageszusammenfassung|daily|once a day|once per day|every day|each day|in a summary"
    r"|digest)\b"
)
# a whole answer to "sofort oder einmal am Tag?" that is one of them only there
_NOW_ANSWERS = {"now", "right now", "now please", "jetzt", "jetzt bitte", "direkt", "direkt bitte"}
# "welche benachrichtigungen habe ich", "lösch meine job alerts": the alerts, not a new one
_ABOUT_MY_ALERTS = re.compile(
    r"\b(welche|zeig|zeige|liste|lösch\w*|loesch\w*|entfern\w*|stopp\w*|beend\w*|keine"
    r"|nicht mehr|what|which|show|list|delete|remove|stop|cancel|no more)\b"
)
_ALERT_WORD = re.compile(r"benachrichtigung|alert|alarm|notification|jobmail|job-mail|abo\b")


def alert_timing_in(text: str) -> str | None:
    """'now' or 'daily' when the text says how often to be told ("sofort", "right away",
    "jeden tag", "once a day"), else None (also when it says both)."""
    lowered = text.lower()
    said = {"now"} if _SAYS_NOW.search(lowered) else set()
    if _SAYS_DAILY.search(lowered):
        said.add("daily")
    return said.pop() if len(said) == 1 else None


async def timing_choices(_ctx: Context) -> list[Choice]:
    """Alert at once for each new posting, or once a day."""
    return [Choice("now", "choice.alert_now"), Choice("daily", "choice.alert_daily")]


async def _timing(ctx: Context, text: str) -> str:
    """The answer to the timing question: a button's value, its number or label (typos
    forgiven, "sofort bitte") or a word for it ("immediately", "gleich", "jeden tag")."""
    choices = await timing_choices(ctx)
    typed = bare_words(text)
    values = {c.value: c.value for c in choices}
    numbers = {str(n): c.value for n, c in enumerate(choices, start=1)}
    labels = {ctx.t(c.label).lower(): c.value for c in choices}
    known = values.get(typed) or numbers.get(typed) or alert_timing_in(text)
    if known is None and typed in _NOW_ANSWERS:
        known = "now"
    if known is None:
        best = process.extractOne(typed, list(labels), scorer=fuzz.WRatio, score_cutoff=85)
        known = labels[best[0]] if best is not None else None
    if known is None:
        raise Invalid("form.pick_option")
    return known


class JobAlertForm(Form):
    """A job alert: the field (asked if not said), district and type if said."""

    name = "job.alert"
    confirm = False
    slots: ClassVar[list[Slot]] = [
        Slot("field", "jobs.alert.ask_field", choices=alert_field_choices, entity="job_field"),
        Slot("district", "", entity="location", ask_if=lambda _c, _v: False),
        Slot("employment_type", "", entity="employment_type", ask_if=lambda _c, _v: False),
        Slot(  # typed, with the two as buttons: "immediately" is "Sofort" (_timing)
            "timing",
            "jobs.alert.ask_timing",
            parse=_timing,
            suggest=timing_choices,
            ask_if=lambda _c, v: v.get("field") in IMMEDIATE_FIELDS,
        ),
    ]

    @classmethod
    async def prefill(cls, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        """The criteria of a search the alert is made from (its button, or words right after
        it), and the timing the message says ("sofort", "einmal am tag")."""
        timing = alert_timing_in(ctx.incoming.text)
        said = {"timing": timing} if timing else {}
        if "search" not in args:
            return said
        query = JobQuery.from_dict(args["search"])
        said |= {"district": query.district, "employment_type": query.employment_type}
        # a search without a field ("stellen in der sozialarbeit" found nothing and showed all):
        # the field is asked ("Alle Bereiche" is one answer), not taken as every job
        return {"field": query.field, **said} if query.field else said

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Store the alert unless the user has the same one."""
        field = None if values.get("field") in (None, "any") else values["field"]
        query = JobQuery(field, values.get("district"), values.get("employment_type"))
        immediate = values.get("timing") == "now" and field in IMMEDIATE_FIELDS
        return await save_alert(ctx, query, immediate=immediate)


async def save_alert(ctx: Context, query: JobQuery, *, immediate: bool = False) -> list[Reply]:
    """Store an alert for the query's criteria unless the user has the same one."""
    _alert, created = await jobs.add_alert(
        ctx.db,
        ctx.user.id,
        field=query.field,
        district=query.district,
        employment_type=query.employment_type,
        immediate=immediate,
    )
    key = "jobs.alert.saved" if created else "jobs.alert.exists"
    when = ctx.t("jobs.alert.when_now" if immediate else "jobs.alert.when_daily")
    return [Reply(ctx.t(key, query=describe_query(ctx, query), when=when))]


ALERT_CRITERIA = ("job_field", "location", "employment_type")  # what an alert may name


@intent("job_alert")
async def job_alert(ctx: Context) -> list[Reply]:
    """Be told about new positions matching what the message says, or – naming none, right
    after a search ("kannst du mir bescheid sagen wenn es neue gibt?") – matching that search;
    asked about the alerts one has ("welche benachrichtigungen habe ich"), see them."""
    text = ctx.incoming.text.lower()
    if _ALERT_WORD.search(text) and _ABOUT_MY_ALERTS.search(text):
        return await list_alerts(ctx)
    last = last_search(ctx)
    if last is not None and not any(ctx.entity(name) for name in ALERT_CRITERIA):
        return await ctx.start_form(JobAlertForm, search=last.to_dict())
    return await ctx.start_form(JobAlertForm)


@button("job.alert")
async def alert_from_search(ctx: Context) -> list[Reply]:
    """Turn the last search into an alert (asking the timing where the field offers one)."""
    query = JobQuery.from_dict(ctx.state.get("job_query") or {})
    return await ctx.start_form(JobAlertForm, search=query.to_dict())


@command("alerts", help_key="help.cmd.alerts", private=True)
async def list_alerts(ctx: Context, _args: str = "") -> list[Reply]:
    """The user's job alerts, each with a delete button."""
    alerts = await jobs.alerts_of(ctx.db, ctx.user.id)
    if not alerts:
        return [Reply(ctx.t("jobs.alert.none"))]
    items = [
        Item(
            ctx.t(
                "jobs.alert.line",
                query=describe_query(
                    ctx, JobQuery(alert.field, alert.district, alert.employment_type)
                ),
                when=ctx.t("jobs.alert.when_now" if alert.immediate else "jobs.alert.when_daily"),
            ),
            [Button(ctx.t("button.delete"), payload("alert.delete", alert.id))],
        )
        for alert in alerts
    ]
    return [listing.page(ctx.t("jobs.alert.list", count=len(alerts)), items, separator="\n")]


@button("alert.delete", by_number=False)
async def delete_alert(ctx: Context, alert_id: int) -> list[Reply]:
    """Delete one of the user's alerts."""
    deleted = await jobs.delete_alert(ctx.db, ctx.user.id, alert_id)
    return [Reply(ctx.t("jobs.alert.deleted" if deleted else "jobs.alert.gone"))]


class PostJobForm(Form):
    """An employer publishes a vacancy."""

    name = "job.post"
    slots: ClassVar[list[Slot]] = [
        Slot(
            "org",
            "jobs.post.ask_org",
            choices=org_choices,
            ask_if=lambda ctx, _v: len(ctx.orgs("employer")) > 1,
        ),
        Slot("title", "jobs.post.ask_title", parse=free_text(200, min_length=3)),
        Slot("field", "jobs.post.ask_field", choices=field_choices, entity="job_field"),
        Slot("district", "jobs.post.ask_district", choices=district_choices, entity="location"),
        Slot(
            "employment_type", "jobs.post.ask_type", choices=type_choices, entity="employment_type"
        ),
        Slot("description", "jobs.post.ask_description", parse=free_text(2000, min_length=20)),
        Slot("contact", "jobs.post.ask_contact", parse=_contact),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The posting as it will be published."""
        return ctx.t(
            "jobs.post.summary",
            title=values["title"],
            field=ctx.t(f"field.{values['field']}"),
            district=values["district"],
            type=ctx.t(f"etype.{values['employment_type']}"),
            description=values["description"],
            contact=values["contact"],
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Publish the posting (for an organisation the user is an employer of, now)."""
        employers = await own_employers(ctx)
        chosen = values.get("org") or (str(employers[0].id) if len(employers) == 1 else None)
        employer = next((e for e in employers if str(e.id) == chosen), None)
        if employer is None:
            return ctx.refuse("employer")
        job = await jobs.post_job(
            ctx.db,
            employer,
            title=values["title"],
            field=values["field"],
            employment_type=values["employment_type"],
            district=values["district"],
            description=values["description"],
            contact=values["contact"],
            created_by=ctx.user.id,
        )
        await announce_posting(ctx, job)
        return [
            Reply(
                ctx.t("jobs.post.published", title=job.title, id=job.id),
                [Button(ctx.t("button.my_postings"), "job.mine")],
            )
        ]


@intent("post_job", role="employer")
@command("postjob", help_key="help.cmd.postjob", role="employer")
async def post_job(ctx: Context, _args: str = "") -> list[Reply]:
    """Begin publishing a vacancy (employers only); asked to change one, say how instead."""
    if not ctx.orgs("employer"):
        return [Reply(ctx.t("jobs.no_org"))]
    asked = await employer_request(ctx)  # "ich möchte die stelle kassierer schließen"
    if asked is not None:
        return asked
    return await ctx.start_form(PostJobForm)


EDIT_WORDS = re.compile(
    r"\b(ändern|aendern|änder|bearbeiten|korrigieren|anpassen|aktualisieren|edit|change|update"
    r"|correct|modify)\b",
    re.IGNORECASE,
)
CLOSE_WORDS = re.compile(
    r"\b(schließen|schliessen|schließe|schliesse|schließt|zumachen|löschen|loeschen|lösche"
    r"|loesche|entfernen|entferne|zurückziehen|beenden|deaktivieren|besetzt"
    r"|close(?!\s+(?:to|by)\b)|delete|remove|take down|withdraw|unpublish|deactivate"
    r"|(?:is|been|was|got)\s+filled)\b",
    re.IGNORECASE,
)
_POSTINGS = r"(?:stellenanzeigen?|jobanzeigen?|inserate?|ausschreibungen?|postings?|job ads?)"
# an employer's own postings: "meine stellenanzeigen", "unsere offenen stellen", "show me the
# job ads" (not a bare "anzeigen", which is also "to show", nor "stellen in der pflege")
MY_POSTINGS = re.compile(
    rf"\b(?:(?:meine|unsere|eure|my|our)\s+(?:offenen\s+|open\s+|aktuellen\s+|current\s+)?"
    rf"(?:{_POSTINGS}|anzeigen|stellen|jobs|ads|vacancies|listings|positions)"
    rf"|(?:zeig|zeige|show|see|list|liste|welche|which)\b.*\b{_POSTINGS})\b",
    re.IGNORECASE,
)
APPLICATIONS_WORDS = re.compile(
    r"\b(bewerbung(?:en)?|bewerber(?:innen)?|beworben|applications?|applicants?|applied)\b",
    re.IGNORECASE,
)
# a new posting ("eine neue stellenanzeige aufgeben"), not the ones there are
NEW_POSTING_WORDS = re.compile(
    r"\b(neue[nrs]?|new|another|weitere[nrs]?|aufgeben|schalten|erstellen|veröffentlichen"
    r"|ausschreiben|inserieren|post|create|publish|add)\b",
    re.IGNORECASE,
)
# looking for staff ("wir suchen bewerber für die pflege"), not at the applications received
HIRING_WORDS = re.compile(
    r"\b(suchen|sucht|gesucht|brauchen|benötigen|looking|hiring|need|seeking)\b", re.IGNORECASE
)
# words that name no posting in a request to close one ("close the warehouse helper posting")
POSTING_TALK = """
stellenanzeige stellenanzeigen anzeige anzeigen jobanzeige inserat ausschreibung posting
postings job jobs vacancy want möchte moechte bitte please
"""


async def employer_request(ctx: Context) -> list[Reply] | None:
    """An employer's words about their postings, as the NLU reads them as a new posting or a
    search: close one ("stelle kassierer schließen"), change one (how instead), see them
    ("meine stellenanzeigen") or the applications to them ("zeig mir die bewerbungen");
    None for anything else and anyone else."""
    if ctx.incoming.kind != "text" or not ctx.orgs("employer"):
        return None
    text = ctx.incoming.text
    if CLOSE_WORDS.search(text):
        return await _close_request(ctx)
    if EDIT_WORDS.search(text):
        return [Reply(ctx.t("jobs.post.no_edit"))]  # "ich möchte meine stellenanzeige ändern"
    if APPLICATIONS_WORDS.search(text) and not HIRING_WORDS.search(text):
        ctx.private = True  # as /applications: personal, never shown in a group
        return await applications(ctx)
    if MY_POSTINGS.search(text) and not NEW_POSTING_WORDS.search(text):
        return await my_postings(ctx)
    return None


def postings_named(text: str, postings: list[JobPosting]) -> list[JobPosting]:
    """The postings a message names: by number ("close posting 69") or else by the most words
    of their title ("die stelle kassierer", "the warehouse helper posting")."""
    numbers = {int(n) for n in re.findall(r"\d+", text)}
    by_number = [job for job in postings if job.id in numbers]
    if by_number:
        return by_number
    ignored = STOPWORDS | set(POSTING_TALK.split())
    words = [
        w for w in re.findall(r"[\wäöüß]{3,}", text.lower())
        if w not in ignored and not CLOSE_WORDS.fullmatch(w)
    ]
    scores = {job.id: _title_score(words, job.title) for job in postings}
    best = max(scores.values(), default=0)
    return [job for job in postings if best and scores[job.id] == best]


def _title_score(words: list[str], title: str) -> int:
    """How many of the words a title has (another inflection or a typo too)."""
    title_words = re.findall(r"[\wäöüß]{3,}", title.lower())
    return sum(
        1 for word in words
        if any(same_word(word, t) or fuzz.ratio(word, t) >= 85 for t in title_words)
    )


async def _close_request(ctx: Context) -> list[Reply]:
    """The one open posting the message names, to confirm its closing; else the postings,
    where each open one has its close button."""
    postings = await jobs.postings_of(ctx.db, await _own_employer_ids(ctx))
    open_postings = [p for p in postings if p.status == jobs.OPEN]
    if not open_postings:
        return [Reply(ctx.t("jobs.close.none_open"))]
    named = postings_named(ctx.incoming.text, open_postings)
    if len(named) != 1:
        return [Reply(ctx.t("jobs.close.which")), *await my_postings(ctx)]
    job = named[0]
    return [
        Reply(
            ctx.t("jobs.close.confirm", title=job.title, id=job.id),
            [
                Button(ctx.t("jobs.close.yes"), payload("job.close", job.id)),
                Button(ctx.t("button.my_postings"), "job.mine"),
            ],
        )
    ]


async def _own_employer_ids(ctx: Context) -> list[int]:
    ids = []
    for org in ctx.orgs("employer"):
        employer = await jobs.employer_by_name(ctx.db, org)
        if employer is not None:
            ids.append(employer.id)
    return ids


@button("job.mine", role="employer")
@command("myjobs", help_key="help.cmd.myjobs", role="employer")
async def my_postings(ctx: Context, _args: str = "") -> list[Reply]:
    """The employer's postings; open ones can be closed."""
    postings = await jobs.postings_of(ctx.db, await _own_employer_ids(ctx))
    if not postings:
        return [Reply(ctx.t("jobs.mine.none"))]
    items = []
    for job in postings:
        status = ctx.t(f"jobs.status.{job.status}")
        actions = (
            [Button(ctx.t("button.close_posting"), payload("job.close", job.id))]
            if job.status == jobs.OPEN
            else []
        )
        items.append(Item(f"#{job.id} {job_line(ctx.t, job)}\n{status}", actions))
    return [listing.page(ctx.t("jobs.mine.list", count=len(postings)), items)]


@button("job.close", role="employer", by_number=False)
async def close_posting(ctx: Context, job_id: int) -> list[Reply]:
    """Close one of the employer's own postings (one of their organisations', now)."""
    job = await jobs.get_job(ctx.db, job_id)
    if job is None or job.employer_id not in await _own_employer_ids(ctx):
        return ctx.refuse("employer")
    if job.status != jobs.OPEN:
        return [Reply(ctx.t("jobs.closed"))]
    await jobs.close_job(ctx.db, job)
    told = await broadcast(  # the applicants hear it from the bot, not never
        ctx.db,
        await jobs.applicant_ids(ctx.db, job.id),
        lambda t, job=job: [
            Reply(t("jobs.applicant_closed", title=job.title, employer=job.employer.name))
        ],
        dedup_prefix=f"job-closed:{job.id}",
    )
    return [Reply(ctx.t("jobs.mine.closed", title=job.title, count=told))]


@command("applications", help_key="help.cmd.applications", role="employer", private=True)
async def applications(ctx: Context, _args: str = "") -> list[Reply]:
    """The applications to the employer's postings."""
    found = await jobs.applications_for(ctx.db, await _own_employer_ids(ctx))
    if not found:
        return [Reply(ctx.t("jobs.applications.none"))]
    items = []
    for application in found:
        sender = application.applicant_name or ctx.t("jobs.apply.anonymous")
        when = format_time(application.created_at, ctx.lang, ctx.config.city.tz)
        title = f"#{application.job.id} {application.job.title}"
        if application.job.status != jobs.OPEN:
            title += f" ({ctx.t(f'jobs.state.{application.job.status}')})"
        text = ctx.t(
            "jobs.applications.item",
            title=title,
            message=application.message,
            name=sender,
            when=when,
        )
        items.append(Item(text))
    return [listing.page(ctx.t("jobs.applications.list", count=len(found)), items)]


async def announce_posting(ctx: Context, job: JobPosting) -> int:
    """Queue one message per user with an immediate alert the new posting matches (a user
    whose two alerts both match it is told once)."""
    count = 0
    alerts = await jobs.immediate_alerts_for(ctx.db, job)
    for user_id in dict.fromkeys(alert.user_id for alert in alerts):
        count += await notify(
            ctx.db,
            user_id,
            lambda t, job=job: compose_new_posting(t, job),
            dedup_key=f"alerted:{user_id}:job:{job.id}",
        )
    return count


def compose_new_posting(t: Translate, job: JobPosting) -> list[Reply]:
    """The message of an immediate alert."""
    text = t("jobs.alert.new_posting", job=job_line(t, job))
    return [
        Reply(
            text,
            [
                Button(t("button.details"), payload("job.details", job.id)),
                Button(t("button.apply"), payload("job.apply", job.id)),
            ],
        )
    ]


def compose_digest(t: Translate, found: list[JobPosting]) -> list[Reply]:
    """A user's daily digest: the newest matches as lines, a button for the first."""
    lines = [t("jobs.alert.digest", count=len(found))]
    lines += [f"• {job_line(t, job)}" for job in found[:DIGEST_SIZE]]
    if len(found) > DIGEST_SIZE:
        lines.append(t("jobs.alert.digest_more", count=len(found) - DIGEST_SIZE))
    buttons = [Button(t("button.details"), payload("job.details", found[0].id))]
    return [Reply("\n\n".join(lines), buttons)]


@recurring(
    "job_alert_digest",
    lambda c: CronTrigger(
        hour=int(c.scheduler.digest_time[:2]),
        minute=int(c.scheduler.digest_time[3:]),
        timezone=c.city.tz,
    ),
)
async def job_alert_digest() -> int:
    """Daily: one message per user with a daily alert, listing the new postings their daily
    alerts match since they were last told (a posting two alerts match once, and none that an
    immediate alert of theirs told already)."""
    app = runtime()
    sent, after_user_id = 0, 0
    today = utcnow().astimezone(app.config.city.tz).date().isoformat()
    while True:
        async with app.sessions() as db, db.begin():
            alerts = await jobs.digest_alerts(db, after_user_id, DIGEST_BATCH)
            if not alerts:
                return sent
            daily = [a for a in alerts if not a.immediate]
            recent = await jobs.open_posted_since(
                db, min(a.last_notified_at or a.created_at for a in daily)
            )
            now = utcnow()
            for user_id, group in groupby(alerts, key=lambda a: a.user_id):
                own = list(group)
                found = jobs.digest_matches(own, recent)
                for alert in own:
                    if not alert.immediate:
                        alert.last_notified_at = now
                if found:
                    sent += await notify(
                        db,
                        user_id,
                        lambda t, found=found: compose_digest(t, found),
                        dedup_key=f"digest:user:{user_id}:{today}",
                    )
            after_user_id = alerts[-1].user_id


menu_entry("menu.jobs", "jobs.search", order=10)
