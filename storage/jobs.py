"""Jobs: employers, job postings, applications and job alerts, with their queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, UTCDateTime, utcnow
from storage.demo import seeder
from storage.privacy import exporter, rows_linked_to

JOB_FIELDS = (
    "nursing",
    "care_for_elderly",
    "medical",
    "retail",
    "logistics",
    "gastronomy",
    "cleaning",
    "it",
    "education",
    "crafts",
    "office",
    "agriculture",
)
EMPLOYMENT_TYPES = ("full_time", "part_time", "mini_job", "temporary", "apprenticeship")
OPEN, CLOSED = "open", "closed"


class Employer(Base):
    """A company or institution that posts vacancies."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    district: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobPosting(Base):
    """An open (or closed) position."""

    __tablename__ = "job_postings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(30), index=True)
    employment_type: Mapped[str] = mapped_column(String(30))
    district: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    employer: Mapped[Employer] = relationship(lazy="joined")

    @property
    def employer_name(self) -> str:
        """The employer's name (as a result list shows it, like JobListing)."""
        return self.employer.name


class Application(Base):
    """A job seeker's application sent through the bot."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("job_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_postings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    job: Mapped[JobPosting] = relationship(lazy="joined")


class JobAlert(Base):
    """A job seeker's wish to hear about new positions matching some criteria."""

    __tablename__ = "job_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    field: Mapped[str | None] = mapped_column(String(30))
    district: Mapped[str | None] = mapped_column(String(100))
    employment_type: Mapped[str | None] = mapped_column(String(30))
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class JobQuery:
    """What a job seeker is looking for; empty criteria match everything. also_districts: the
    other districts named, any of which may match too ("in Hörde oder Aplerbeck")."""

    field: str | None = None
    district: str | None = None
    employment_type: str | None = None
    words: tuple[str, ...] = ()
    also_districts: tuple[str, ...] = ()

    @property
    def districts(self) -> tuple[str, ...]:
        """Every district the query names, the first one first."""
        return (self.district, *self.also_districts) if self.district else ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-able form, for the conversation state."""
        return {
            "field": self.field,
            "district": self.district,
            "employment_type": self.employment_type,
            "words": list(self.words),
            "also_districts": list(self.also_districts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> JobQuery:
        """The inverse of to_dict."""
        words = data.get("words") or []
        return cls(
            field=data.get("field"),  # type: ignore[arg-type]
            district=data.get("district"),  # type: ignore[arg-type]
            employment_type=data.get("employment_type"),  # type: ignore[arg-type]
            words=tuple(str(w) for w in words),  # type: ignore[union-attr]
            also_districts=tuple(str(d) for d in data.get("also_districts") or []),  # type: ignore[union-attr]
        )


class JobListing(NamedTuple):
    """An open position as a result list shows it: a plain row, no ORM object loaded."""

    id: int
    title: str
    employer_name: str
    district: str
    employment_type: str


@dataclass
class SearchPage:
    """One page of search results, whether the district had to be widened and which free
    words no candidate contains (they only rank, so they are said, not shown as criteria)."""

    jobs: list[JobListing]
    total: int
    offset: int
    widened_district: bool = False
    unmatched_words: tuple[str, ...] = ()

    @property
    def has_more(self) -> bool:
        """Whether there are results after this page."""
        return self.offset + len(self.jobs) < self.total


def _word_starts(words: Iterable[str]) -> list[re.Pattern[str]]:
    """Patterns finding each word at the start of a word of a lower-case text."""
    return [re.compile(rf"\b{re.escape(word.lower())}") for word in words]


def _word_score(text: str, starts: list[re.Pattern[str]]) -> int:
    """How many of the words (as _word_starts) start a word of the lower-case text."""
    return sum(1 for start in starts if start.search(text))


def _criteria(query: JobQuery, *, with_district: bool) -> dict[str, str | list[str]]:
    """The query's exact criteria (field, type, districts) that it names, by bind parameter."""
    named = {"field": query.field, "employment_type": query.employment_type,
             "district": list(query.districts) if with_district else None}
    return {name: value for name, value in named.items() if value}


def _narrowed(stmt: Select[Any], criteria: Iterable[str]) -> Select[Any]:
    """The statement narrowed to open positions, each named criterion a bind parameter of its
    name (the districts a list, any of which matches), newest first."""
    columns = {"field": JobPosting.field, "employment_type": JobPosting.employment_type}
    stmt = stmt.where(JobPosting.status == OPEN)
    for name in criteria:
        if name == "district":
            stmt = stmt.where(JobPosting.district.in_(bindparam(name, expanding=True)))
        else:
            stmt = stmt.where(columns[name] == bindparam(name))
    return stmt.order_by(JobPosting.created_at.desc(), JobPosting.id.desc())


def _listed(*extra: Any) -> Select[Any]:
    """A SELECT of the columns of a JobListing (and the extra ones after them)."""
    return select(
        JobPosting.id, JobPosting.title, Employer.name.label("employer_name"), JobPosting.district,
        JobPosting.employment_type, *extra,
    ).join(Employer, Employer.id == JobPosting.employer_id)


def _listing(row: Any) -> JobListing:
    """The JobListing of a row that starts with _listed's columns."""
    return JobListing._make(row[: len(JobListing._fields)])


@cache
def _page_statement(criteria: tuple[str, ...]) -> Select[Any]:
    """_page's SELECT for one combination of criteria, built once (no statement building or
    cache key per search); the criteria, offset and limit are bound when it runs."""
    total = func.count().over().label("total")
    return (_narrowed(_listed(total), criteria)
            .offset(bindparam("offset", type_=Integer))
            .limit(bindparam("limit", type_=Integer)))


Found = tuple[list[JobListing], int, tuple[str, ...]]  # a page, all matches, unmatched words


async def _page(
    db: AsyncSession, query: JobQuery, *, with_district: bool, offset: int, limit: int
) -> Found:
    """One page in the database's order and the number of all matches, in one statement."""
    criteria = _criteria(query, with_district=with_district)
    stmt = _page_statement(tuple(criteria))
    rows = (await db.execute(stmt, {**criteria, "offset": offset, "limit": limit})).all()
    if rows:
        return [_listing(row) for row in rows], rows[0].total, ()
    if not offset:
        return [], 0, ()
    count = _narrowed(select(func.count()).select_from(JobPosting), criteria).order_by(None)
    return [], await db.scalar(count, criteria) or 0, ()


async def _ranked(
    db: AsyncSession, query: JobQuery, *, with_district: bool, offset: int, limit: int
) -> Found:
    """One page of the candidates (at most 500, plain rows) ranked by the query's free words
    here, their number, and the words none of them contains."""
    criteria = _criteria(query, with_district=with_district)
    stmt = _narrowed(_listed(JobPosting.description), criteria)
    if not (query.field or query.employment_type):
        patterns = [f"%{w.lower()}%" for w in query.words]
        stmt = stmt.where(
            or_(
                *(func.lower(JobPosting.title).like(p) for p in patterns),
                *(func.lower(JobPosting.description).like(p) for p in patterns),
            )
        )
    rows = (await db.execute(stmt.limit(500), criteria)).all()
    starts = _word_starts(query.words)
    texts = [f"{row.title} {row.description} {row.employer_name}".lower() for row in rows]
    scores = [_word_score(text, starts) for text in texts]
    order = sorted(range(len(rows)), key=scores.__getitem__, reverse=True)  # stable: newest
    unmatched = tuple(w for w in query.words if not any(w.lower() in text for text in texts))
    return [_listing(rows[i]) for i in order[offset : offset + limit]], len(rows), unmatched


async def search(
    db: AsyncSession, query: JobQuery, *, offset: int = 0, limit: int = 3
) -> SearchPage:
    """Open positions matching the query, best word matches first, newest first among equals.

    Without words to rank by, the database cuts the page (and counts all matches in the same
    statement): only the page's postings are loaded, however many match.
    """
    fetch = _ranked if query.words else _page
    jobs, total, unmatched = await fetch(db, query, with_district=True, offset=offset,
                                         limit=limit)
    widened = False
    if not total and query.districts:
        jobs, total, unmatched = await fetch(db, query, with_district=False, offset=offset,
                                             limit=limit)
        widened = bool(total)
    return SearchPage(jobs=jobs, total=total, offset=offset, widened_district=widened,
                      unmatched_words=unmatched)


async def get_job(db: AsyncSession, job_id: int) -> JobPosting | None:
    """A posting by id (open or closed)."""
    return await db.get(JobPosting, job_id)


async def get_or_create_employer(db: AsyncSession, name: str) -> Employer:
    """The employer with this name, created if new."""
    employer = await db.scalar(select(Employer).where(Employer.name == name))
    if employer is None:
        employer = Employer(name=name)
        db.add(employer)
        await db.flush()
    return employer


async def employer_by_name(db: AsyncSession, name: str) -> Employer | None:
    """The employer with this name, if any."""
    return await db.scalar(select(Employer).where(Employer.name == name))


async def post_job(
    db: AsyncSession,
    employer: Employer,
    *,
    title: str,
    field: str,
    employment_type: str,
    district: str,
    description: str,
    contact: str,
    created_by: int | None = None,
) -> JobPosting:
    """Publish a new open position."""
    if field not in JOB_FIELDS:
        raise ValueError(f"unknown job field {field!r}")
    if employment_type not in EMPLOYMENT_TYPES:
        raise ValueError(f"unknown employment type {employment_type!r}")
    job = JobPosting(
        employer_id=employer.id,
        title=title,
        field=field,
        employment_type=employment_type,
        district=district,
        description=description,
        contact=contact,
        created_by=created_by,
    )
    db.add(job)
    await db.flush()
    await db.refresh(job, ["employer"])
    return job


async def postings_of(db: AsyncSession, employer_ids: list[int]) -> list[JobPosting]:
    """An employer's postings, open ones first, newest first."""
    if not employer_ids:
        return []
    stmt = (
        select(JobPosting)
        .where(JobPosting.employer_id.in_(employer_ids))
        .order_by(JobPosting.status.desc(), JobPosting.created_at.desc())
    )
    return list((await db.scalars(stmt)).unique())


async def close_job(db: AsyncSession, job: JobPosting) -> None:
    """Close a posting; it no longer appears in searches."""
    if job.status != CLOSED:
        job.status = CLOSED
        job.closed_at = utcnow()
        await db.flush()


async def find_application(db: AsyncSession, job_id: int, user_id: int) -> Application | None:
    """The user's application to this job, if they applied."""
    return await db.scalar(
        select(Application).where(Application.job_id == job_id, Application.user_id == user_id)
    )


async def apply(
    db: AsyncSession, job: JobPosting, user_id: int, *, message: str, applicant_name: str | None
) -> Application:
    """Store an application to an open posting."""
    application = Application(
        job_id=job.id, user_id=user_id, message=message, applicant_name=applicant_name
    )
    db.add(application)
    await db.flush()
    return application


async def applications_for(db: AsyncSession, employer_ids: list[int]) -> list[Application]:
    """Applications to the postings of these employers, newest first."""
    if not employer_ids:
        return []
    stmt = (
        select(Application)
        .join(JobPosting, Application.job_id == JobPosting.id)
        .where(JobPosting.employer_id.in_(employer_ids))
        .order_by(Application.created_at.desc())
    )
    return list((await db.scalars(stmt)).unique())


async def applications_of_user(db: AsyncSession, user_id: int) -> list[Application]:
    """A user's own applications, newest first (their list and the data export)."""
    stmt = (
        select(Application)
        .where(Application.user_id == user_id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    )
    return list((await db.scalars(stmt)).unique())


async def applicant_ids(db: AsyncSession, job_id: int) -> list[int]:
    """The users who applied to a posting."""
    return list(await db.scalars(select(Application.user_id).where(Application.job_id == job_id)))


async def add_alert(
    db: AsyncSession,
    user_id: int,
    *,
    field: str | None,
    district: str | None,
    employment_type: str | None,
    immediate: bool = False,
) -> tuple[JobAlert, bool]:
    """Store a job alert unless the same one exists; returns (alert, created)."""
    existing = await db.scalar(
        select(JobAlert).where(
            JobAlert.user_id == user_id,
            JobAlert.field.is_(None) if field is None else JobAlert.field == field,
            JobAlert.district.is_(None) if district is None else JobAlert.district == district,
            JobAlert.employment_type.is_(None)
            if employment_type is None
            else JobAlert.employment_type == employment_type,
        )
    )
    if existing is not None:
        existing.immediate = immediate
        return existing, False
    alert = JobAlert(
        user_id=user_id,
        field=field,
        district=district,
        employment_type=employment_type,
        immediate=immediate,
    )
    db.add(alert)
    await db.flush()
    return alert, True


async def alerts_of(db: AsyncSession, user_id: int) -> list[JobAlert]:
    """A user's job alerts, oldest first."""
    stmt = select(JobAlert).where(JobAlert.user_id == user_id).order_by(JobAlert.id)
    return list(await db.scalars(stmt))


async def delete_alert(db: AsyncSession, user_id: int, alert_id: int) -> bool:
    """Delete one of the user's alerts; False if it is not theirs or gone."""
    alert = await db.get(JobAlert, alert_id)
    if alert is None or alert.user_id != user_id:
        return False
    await db.delete(alert)
    await db.flush()
    return True


def alert_matches(alert: JobAlert, job: JobPosting) -> bool:
    """Whether a posting matches an alert's criteria."""
    return (
        (alert.field is None or alert.field == job.field)
        and (alert.district is None or alert.district == job.district)
        and (alert.employment_type is None or alert.employment_type == job.employment_type)
    )


@exporter("job_applications")
async def export_applications(db: AsyncSession, user_id: int) -> list[dict[str, object]]:
    """The user's applications."""
    return [
        {
            "job_id": a.job_id,
            "job_title": a.job.title,
            "message": a.message,
            "shared_name": a.applicant_name,
            "created_at": a.created_at.isoformat(),
        }
        for a in await applications_of_user(db, user_id)
    ]


@exporter("job_postings")
async def export_postings(db: AsyncSession, user_id: int) -> list[dict[str, object]]:
    """The postings the user published for an employer (they stay the employer's when the
    user's data is erased; only the link to the user goes)."""
    postings = await rows_linked_to(db, JobPosting.created_by, user_id)
    return [
        {
            "id": job.id,
            "employer": job.employer.name,
            "title": job.title,
            "status": job.status,
            "created_at": job.created_at.isoformat(),
        }
        for job in postings
    ]


@exporter("job_alerts")
async def export_alerts(db: AsyncSession, user_id: int) -> list[dict[str, object]]:
    """The user's job alerts."""
    return [
        {
            "id": a.id,
            "field": a.field,
            "district": a.district,
            "employment_type": a.employment_type,
            "immediate": a.immediate,
            "created_at": a.created_at.isoformat(),
        }
        for a in await alerts_of(db, user_id)
    ]


@seeder("jobs", order=20)
async def seed_jobs(db: AsyncSession, read: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    """Demo employers and open positions (matched by employer and title, so re-runs add none)."""
    employers: dict[str, Employer] = {}
    for row in read("employers").get("employers", []):
        employer = await get_or_create_employer(db, row["name"])
        employer.district = row.get("district")
        employer.contact = row.get("contact")
        employers[row["key"]] = employer
    added = 0
    for row in read("jobs").get("jobs", []):
        employer = employers[row["employer"]]
        exists = await db.scalar(
            select(JobPosting.id).where(
                JobPosting.employer_id == employer.id, JobPosting.title == row["title"]
            )
        )
        if exists is not None:
            continue
        job = await post_job(
            db,
            employer,
            title=row["title"],
            field=row["field"],
            employment_type=row["employment_type"],
            district=row["district"],
            description=row["description"].strip(),
            contact=row.get("contact") or employer.contact,
        )
        job.created_at = utcnow() - timedelta(
            days=int(row.get("posted_days_ago", 0)), minutes=added
        )
        added += 1
    await db.flush()
    return {"employers": len(employers), "jobs_added": added}


async def immediate_alerts_for(db: AsyncSession, job: JobPosting) -> list[JobAlert]:
    """The immediate alerts a new posting matches."""
    stmt = select(JobAlert).where(
        JobAlert.immediate.is_(True),
        or_(JobAlert.field.is_(None), JobAlert.field == job.field),
        or_(JobAlert.district.is_(None), JobAlert.district == job.district),
        or_(JobAlert.employment_type.is_(None), JobAlert.employment_type == job.employment_type),
    )
    return list(await db.scalars(stmt))


async def digest_alerts(db: AsyncSession, after_user_id: int, users: int) -> list[JobAlert]:
    """Every alert (daily and immediate) of the next `users` users with a daily alert and an id
    above after_user_id, by user and id, for paging user by user."""
    user_ids = (
        select(JobAlert.user_id)
        .where(JobAlert.immediate.is_(False), JobAlert.user_id > after_user_id)
        .distinct()
        .order_by(JobAlert.user_id)
        .limit(users)
    )
    stmt = (select(JobAlert).where(JobAlert.user_id.in_(user_ids))
            .order_by(JobAlert.user_id, JobAlert.id))
    return list(await db.scalars(stmt))


def digest_matches(alerts: list[JobAlert], recent: list[JobPosting]) -> list[JobPosting]:
    """The postings of `recent` (in its order) one user's digest tells: new since one of their
    daily alerts was last told and matching it, each once, and none an immediate alert of theirs
    told already when it was posted."""
    daily = [a for a in alerts if not a.immediate]
    immediate = [a for a in alerts if a.immediate]
    return [
        job for job in recent
        if any(job.created_at > (a.last_notified_at or a.created_at) and alert_matches(a, job)
               for a in daily)
        and not any(a.created_at <= job.created_at and alert_matches(a, job) for a in immediate)
    ]


async def open_posted_since(db: AsyncSession, since: datetime) -> list[JobPosting]:
    """Open postings published after a time, newest first."""
    stmt = (select(JobPosting).where(JobPosting.status == OPEN, JobPosting.created_at > since)
            .order_by(JobPosting.created_at.desc()))
    return list((await db.scalars(stmt)).unique())
