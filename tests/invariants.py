"""Checks the fuzz test (test_fuzz_roles.py) runs after every step – add yours here.

Two lists, filled with decorators:
- @step_check: gets the Step (the app, the Incoming, its replies, the acting persona's
  roles) and raises AssertionError when the answer is wrong (e.g. personal data posted in
  a group chat).
- @db_invariant: gets a read-only database session and raises AssertionError when the
  data breaks a rule that must always hold.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import String, Text, TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.buttons import MAX_PAYLOAD
from bot.forms import CONFIRM_STEP, FORMS
from bot.i18n import translator
from bot.messages import Incoming, Reply
from storage.base import Base
from storage.conversations import ConversationState
from storage.jobs import Application, Employer, JobPosting
from storage.users import RoleGrant

INTERNAL_ERRORS = {translator(lang)("error.internal") for lang in ("de", "en")}


@dataclass(frozen=True)
class Step:
    """One fuzzed event and what the bot answered."""

    app: App
    incoming: Incoming
    replies: list[Reply]
    persona: str  # the acting persona's name (tests/personas.py PERSONAS)
    roles: tuple[str, ...]  # the persona's roles before the step


StepCheck = Callable[[Step], Awaitable[None]]
DbInvariant = Callable[[AsyncSession], Awaitable[None]]
STEP_CHECKS: list[StepCheck] = []
DB_INVARIANTS: list[DbInvariant] = []


def step_check(check: StepCheck) -> StepCheck:
    """Register a check of every step's answer."""
    STEP_CHECKS.append(check)
    return check


def db_invariant(check: DbInvariant) -> DbInvariant:
    """Register a rule the database must satisfy after every step."""
    DB_INVARIANTS.append(check)
    return check


@step_check
async def no_internal_error(step: Step) -> None:
    """Whatever comes in, the answer is never 'something went wrong'."""
    texts = {r.text for r in step.replies}
    assert not INTERNAL_ERRORS & texts, f"internal error on {step.incoming!r}"


@step_check
async def buttons_fit_signed_callback_data(step: Step) -> None:
    """Every offered button leaves room for its signature in Telegram's 64 bytes."""
    for reply in step.replies:
        for button in reply.buttons:
            assert len(button.payload.encode()) <= MAX_PAYLOAD, button.payload


# what only a personal answer shows: an applicant's message and contact data (written by the
# fuzzed users), and a voucher's code
PERSONAL_TEXTS = ("Ich möchte mich gern bewerben", "jobs@example.org", "0231 123456")
VOUCHER_CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


@step_check
async def nothing_personal_in_a_group(step: Step) -> None:
    """A group chat gets no files, no applicants' texts or contact data and no voucher codes:
    personal answers go to the private chat (bot/privately.py)."""
    if not step.incoming.is_group:
        return
    for reply in step.replies:
        assert reply.file is None and reply.image is None, f"file in a group: {step.incoming!r}"
        for personal in PERSONAL_TEXTS:
            assert personal not in reply.text, f"personal text in a group: {step.incoming!r}"
        assert not VOUCHER_CODE.search(reply.text), f"voucher code in a group: {reply.text!r}"


CONTROL_GLOB = "*[^ -~\u00a0-\U0010ffff\n\t]*"  # C0 and C1 controls except newline, tab


@cache
def _control_query() -> tuple[TextClause, list[str]]:
    """One query counting, per table, the rows with a control character in a text column."""
    counts, names = [], []
    for table in Base.metadata.sorted_tables:
        columns = [c.name for c in table.columns if isinstance(c.type, String | Text)]
        if columns:
            bad = " OR ".join(f'instr("{c}", :nul) > 0 OR "{c}" GLOB :glob' for c in columns)
            counts.append(f'(SELECT count(*) FROM "{table.name}" WHERE {bad})')
            names.append(table.name)
    return text(f"SELECT {', '.join(counts)}"), names


@db_invariant
async def no_control_characters_stored(db: AsyncSession) -> None:
    """No text column holds NUL or another control character (newline and tab are fine).

    (SQLite: GLOB and instr; a lone surrogate cannot even be written, the turn would fail.)
    """
    query, names = _control_query()
    found = (await db.execute(query, {"nul": "\x00", "glob": CONTROL_GLOB})).one()
    assert not any(found), f"control characters stored: {dict(zip(names, found, strict=True))}"


@db_invariant
async def postings_belong_to_their_posters_organisation(db: AsyncSession) -> None:
    """A posting made in the chat is for an organisation its poster is an employer of."""
    rows = await db.execute(
        select(JobPosting.id, JobPosting.created_by, Employer.name)
        .join(Employer, Employer.id == JobPosting.employer_id)
        .where(JobPosting.created_by.is_not(None))
    )
    for job_id, user_id, org in rows:
        grants = await db.scalars(
            select(RoleGrant.org).where(RoleGrant.user_id == user_id, RoleGrant.role == "employer")
        )
        assert org in set(grants), f"posting {job_id} is not for an org of its poster"


@db_invariant
async def applications_are_complete(db: AsyncSession) -> None:
    """Every application has its message and an existing posting."""
    for application in await db.scalars(select(Application)):
        assert len(application.message) >= 10
        assert await db.get(JobPosting, application.job_id) is not None


@db_invariant
async def open_forms_are_known(db: AsyncSession) -> None:
    """A saved conversation state names a known form and one of its steps."""
    for state in await db.scalars(select(ConversationState)):
        form = (state.data or {}).get("form")
        if form is None:
            continue
        assert form["name"] in FORMS, form["name"]
        slots = {slot.name for slot in FORMS[form["name"]].slots}
        assert form["slot"] in slots | {CONFIRM_STEP}, form["slot"]
