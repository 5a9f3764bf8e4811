"""Storage against SQLite and a real PostgreSQL: migrations, users, invites, dedup, jobs, demo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import jobs, migrate, users
from storage.base import utcnow
from storage.conversations import (
    ConversationState,
    ProcessedEvent,
    forget_processed_before,
    load_state,
    open_turn,
)
from storage.db import create_engine, session_factory
from storage.demo import is_empty, load_demo
from storage.models import Base
from storage.privacy import export_user


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


async def test_migrations_reach_head_and_match_the_models(engine):
    assert await migrate.current_revision(engine) == migrate.head_revision()

    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_upgrade_twice_is_harmless(engine):
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()


async def test_first_contact_creates_user_and_identity_once(db):
    user, created = await users.get_or_create_user(db, "telegram", "42", language="en")
    again, created_again = await users.get_or_create_user(db, "telegram", "42", language="de")
    assert created and not created_again
    assert again.id == user.id and again.language == "en"
    await db.commit()


async def test_a_new_user_is_stored_and_persistent_without_a_flush(db, engine):
    """create_user's Core INSERTs: the rows are there with the objects' ids and values, the
    objects are the session's own (nothing pending), and a later change is flushed."""
    before, _ = await users.get_or_create_user(db, "console", "before", language="de")
    db.add(users.Identity(user_id=before.id, platform="matrix", external_id="@before:x"))
    await db.flush()  # the ids of identities and users differ from here on
    user = await users.create_user(db, "telegram", "77", language="en",
                                   language_source="platform", display_name="Ada",
                                   private_chat="77")
    identity = user.identities[0]
    assert not db.new and not db.dirty, "stored already: nothing left for a flush"
    assert user in db and identity in db and identity.user is user and user.roles == []
    await db.commit()
    async with session_factory(engine)() as other:  # what the rows say, in another session
        row = (await other.execute(
            select(users.Identity.id, users.Identity.user_id, users.User.language,
                   users.User.language_source, users.User.display_name,
                   users.Identity.private_chat_id, users.Identity.reachable,
                   users.User.language_streak)
            .join(users.User, users.User.id == users.Identity.user_id)
            .where(users.Identity.external_id == "77"))).one()
    assert tuple(row) == (identity.id, user.id, "en", "platform", "Ada", "77", True, 0)
    user.language = "de"  # a change later in the turn: an ordinary UPDATE
    await db.commit()
    db.expunge_all()
    stored = await db.get(users.User, user.id)
    assert stored.language == "de" and stored.created_at.tzinfo is not None
    assert [i.external_id for i in await users.identities_of(db, user.id)] == ["77"]


async def test_times_come_back_aware_in_utc(db):
    user, _ = await users.get_or_create_user(db, "console", "x", language="de")
    await db.commit()
    db.expunge_all()
    fresh = await db.get(users.User, user.id)
    assert fresh.created_at.tzinfo is not None
    assert abs(fresh.created_at - utcnow()) < timedelta(minutes=1)


async def test_invite_claim_grants_role_once(db):
    user, _ = await users.get_or_create_user(db, "console", "a", language="de")
    other, _ = await users.get_or_create_user(db, "console", "b", language="de")
    invite = await users.create_invite(db, "employer", "Klinik")
    grant = await users.claim_invite(db, user, invite.code.lower())
    assert (grant.role, grant.org) == ("employer", "Klinik")
    with pytest.raises(users.InviteError) as error:
        await users.claim_invite(db, other, invite.code)
    assert error.value.reason == "claim.used"
    await db.commit()


async def test_expired_and_unknown_invites_are_refused(db):
    user, _ = await users.get_or_create_user(db, "console", "a", language="de")
    invite = await users.create_invite(db, "admin")
    invite.expires_at = utcnow() - timedelta(seconds=1)
    await db.flush()
    for code, reason in ((invite.code, "claim.expired"), ("AAAA-AAAA", "claim.unknown")):
        with pytest.raises(users.InviteError) as error:
            await users.claim_invite(db, user, code)
        assert error.value.reason == reason


async def test_org_bound_role_needs_an_org(db):
    with pytest.raises(ValueError, match="organisation"):
        await users.create_invite(db, "employer")
    with pytest.raises(ValueError, match="unknown role"):
        await users.create_invite(db, "mayor")


async def test_event_ids_are_processed_once(db):
    assert await open_turn(db, "telegram", "1001", "u1", "c1", language="de")
    assert not await open_turn(db, "telegram", "1001", "u1", "c1", language="de")
    assert await open_turn(db, "matrix", "1001", "u1", "c1", language="de")
    await db.commit()
    assert await forget_processed_before(db, timedelta(seconds=-5)) == 2
    await db.commit()


async def test_rolled_back_turn_leaves_no_processed_event(engine):
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as db, db.begin():
            await open_turn(db, "console", "e1", "u", "u", language="de")
            await users.get_or_create_user(db, "console", "u", language="de")
            raise RuntimeError("handler failed")
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
        assert await db.scalar(select(func.count()).select_from(users.User)) == 0


async def test_conversation_state_round_trips_json(db):
    user, _ = await users.get_or_create_user(db, "console", "s", language="de")
    state = await load_state(db, "console", "chat", user.id)
    state.data = {"form": {"name": "job.apply", "values": {"message": "Grüße"}}, "n": [1, 2]}
    await db.commit()
    db.expunge_all()
    again = await load_state(db, "console", "chat", user.id)
    assert again.data["form"]["values"]["message"] == "Grüße"


async def _employer_with_jobs(db: AsyncSession) -> jobs.Employer:
    employer = await jobs.get_or_create_employer(db, "Klinikum Test")
    spec = [
        ("Pflegefachkraft Intensiv", "nursing", "full_time", "Innenstadt", 5),
        ("Pflegehelfer Nacht", "nursing", "part_time", "Hörde", 1),
        ("Lagerhelfer", "logistics", "part_time", "Hörde", 2),
        ("Pflegefachkraft Ambulant", "nursing", "part_time", "Innenstadt", 0),
    ]
    for title, field, etype, district, days in spec:
        job = await jobs.post_job(
            db,
            employer,
            title=title,
            field=field,
            employment_type=etype,
            district=district,
            description=f"{title} gesucht.",
            contact="x@y.example",
        )
        job.created_at = utcnow() - timedelta(days=days)
    await db.flush()
    return employer


async def test_search_filters_and_orders_newest_first(db):
    await _employer_with_jobs(db)
    page = await jobs.search(db, jobs.JobQuery(field="nursing"), limit=10)
    assert [j.title for j in page.jobs] == [
        "Pflegefachkraft Ambulant",
        "Pflegehelfer Nacht",
        "Pflegefachkraft Intensiv",
    ]
    page = await jobs.search(
        db, jobs.JobQuery(field="nursing", district="Innenstadt", employment_type="part_time")
    )
    assert [j.title for j in page.jobs] == ["Pflegefachkraft Ambulant"]


async def test_search_widens_the_district_when_nothing_is_there(db):
    await _employer_with_jobs(db)
    page = await jobs.search(db, jobs.JobQuery(field="logistics", district="Innenstadt"))
    assert page.widened_district and [j.title for j in page.jobs] == ["Lagerhelfer"]


async def test_free_words_rank_matches_first(db):
    await _employer_with_jobs(db)
    page = await jobs.search(db, jobs.JobQuery(field="nursing", words=("intensiv",)), limit=10)
    assert page.jobs[0].title == "Pflegefachkraft Intensiv"
    only_words = await jobs.search(db, jobs.JobQuery(words=("lagerhelfer",)), limit=10)
    assert [j.title for j in only_words.jobs] == ["Lagerhelfer"]


async def test_paging_and_closed_jobs(db):
    await _employer_with_jobs(db)
    first = await jobs.search(db, jobs.JobQuery(), limit=3)
    second = await jobs.search(db, jobs.JobQuery(), offset=3, limit=3)
    assert first.total == 4 and first.has_more and not second.has_more
    await jobs.close_job(db, await jobs.get_job(db, first.jobs[0].id))
    assert (await jobs.search(db, jobs.JobQuery(), limit=10)).total == 3


async def test_a_result_page_lists_what_the_list_shows_as_plain_rows(db):
    employer = await _employer_with_jobs(db)
    for query in (jobs.JobQuery(field="nursing"), jobs.JobQuery(words=("pflege",))):
        page = await jobs.search(db, query, limit=10)
        assert page.jobs and all(isinstance(j, jobs.JobListing) for j in page.jobs)
        for listed in page.jobs:
            posting = await jobs.get_job(db, listed.id)
            assert listed == jobs.JobListing(posting.id, posting.title, employer.name,
                                             posting.district, posting.employment_type)


async def test_free_words_in_the_description_or_employer_rank_too_newest_first_on_ties(db):
    await _employer_with_jobs(db)
    other = await jobs.get_or_create_employer(db, "Seniorenzentrum Nord")
    oldest = await jobs.post_job(db, other, title="Pflegehelfer Früh", field="nursing",
                                 employment_type="mini_job", district="Hörde",
                                 description="Morgens, mit Intensiv-Erfahrung.",
                                 contact="x@y.example")
    oldest.created_at = utcnow() - timedelta(days=10)
    await db.flush()
    by_description = await jobs.search(db, jobs.JobQuery(field="nursing", words=("intensiv",)),
                                       limit=10)
    assert [j.title for j in by_description.jobs[:2]] == [
        "Pflegefachkraft Intensiv", "Pflegehelfer Früh"]  # both match: the newer first
    assert by_description.total == 4
    by_employer = await jobs.search(db, jobs.JobQuery(field="nursing", words=("senioren",)),
                                    limit=1)
    assert [j.employer_name for j in by_employer.jobs] == ["Seniorenzentrum Nord"]


async def test_pages_cut_by_the_database_add_up_to_all_matches(db):
    await _employer_with_jobs(db)
    everything = await jobs.search(db, jobs.JobQuery(), limit=100)
    pages = [await jobs.search(db, jobs.JobQuery(), offset=o, limit=2) for o in (0, 2, 4)]
    assert [j.id for p in pages for j in p.jobs] == [j.id for j in everything.jobs]
    assert [p.total for p in pages] == [4, 4, 4] and [p.has_more for p in pages] == [
        True, False, False]
    past_the_end = await jobs.search(
        db, jobs.JobQuery(field="nursing", district="Innenstadt"), offset=3, limit=3)
    assert (past_the_end.jobs, past_the_end.total, past_the_end.widened_district) == (
        [], 2, False)  # the district has matches: a page past them does not widen it
    widened = await jobs.search(db, jobs.JobQuery(field="logistics", district="Innenstadt"),
                                offset=1, limit=3)
    assert (widened.jobs, widened.total, widened.widened_district) == ([], 1, True)


async def test_alerts_are_unique_per_criteria_and_match_postings(db):
    user, _ = await users.get_or_create_user(db, "console", "a", language="de")
    alert, created = await jobs.add_alert(
        db, user.id, field="nursing", district=None, employment_type=None
    )
    _, created_again = await jobs.add_alert(
        db, user.id, field="nursing", district=None, employment_type=None
    )
    assert created and not created_again
    employer = await _employer_with_jobs(db)
    matching = await jobs.post_job(
        db,
        employer,
        title="Neu",
        field="nursing",
        employment_type="mini_job",
        district="Eving",
        description="d",
        contact="c",
    )
    other = await jobs.post_job(
        db,
        employer,
        title="Neu2",
        field="it",
        employment_type="mini_job",
        district="Eving",
        description="d",
        contact="c",
    )
    assert jobs.alert_matches(alert, matching) and not jobs.alert_matches(alert, other)
    assert await jobs.delete_alert(db, user.id, alert.id)
    assert not await jobs.delete_alert(db, user.id, alert.id)


async def test_deleting_a_user_removes_their_data_but_keeps_postings(db):
    user, _ = await users.get_or_create_user(db, "console", "gone", language="de")
    employer = await _employer_with_jobs(db)
    job = await jobs.post_job(
        db,
        employer,
        title="Von mir",
        field="it",
        employment_type="mini_job",
        district="Eving",
        description="d",
        contact="c",
        created_by=user.id,
    )
    await jobs.apply(db, job, user.id, message="Hallo", applicant_name="Gone")
    await jobs.add_alert(db, user.id, field="it", district=None, employment_type=None)
    await load_state(db, "console", "gone", user.id)
    await db.commit()
    exported = await export_user(db, user.id)
    assert exported["job_applications"][0]["message"] == "Hallo"
    assert exported["account"][0]["identities"] == [{"platform": "console", "id": "gone"}]
    await users.delete_user(db, user)
    await db.commit()
    db.expunge_all()
    for model in (users.User, users.Identity, jobs.Application, jobs.JobAlert, ConversationState):
        assert await db.scalar(select(func.count()).select_from(model)) == 0, model
    kept = await db.get(jobs.JobPosting, job.id)
    assert kept is not None and kept.created_by is None


async def test_demo_data_loads_once_and_is_realistic(db):
    assert await is_empty(db)
    counts = await load_demo(db)
    await db.commit()
    again = await load_demo(db)
    await db.commit()
    assert counts["jobs_added"] >= 40 and again["jobs_added"] == 0
    open_jobs = list(await db.scalars(
        select(jobs.JobPosting).where(jobs.JobPosting.status == jobs.OPEN)))
    assert (await jobs.search(db, jobs.JobQuery(), limit=1)).total == len(open_jobs)
    care = [j for j in open_jobs if j.field in ("nursing", "care_for_elderly")]
    assert len(care) * 3 >= len(open_jobs)
    assert {j.field for j in open_jobs} == set(jobs.JOB_FIELDS)
    assert {j.employment_type for j in open_jobs} == set(jobs.EMPLOYMENT_TYPES)
    assert len({j.district for j in open_jobs}) >= 5
    assert not await is_empty(db)
