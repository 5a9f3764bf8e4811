"""`citybot evenings import FILE.csv --school KEY`: a school's term schedule in one go."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from bot.config import Config
from bot.i18n import translator
from storage import parent_evenings as pe
from storage.base import utcnow


def read_csv(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows of a CSV text, each row with its line number."""
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    rows = [(reader.line_num, dict(row)) for row in reader]
    return header, rows


async def run_import(config: Config, path: str, school_key: str) -> int:
    """Validate every row; import all of them, or none when any row is wrong. Exit code."""
    from bot.app import prepare_database
    from storage.db import session_factory

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"citybot: cannot read {path}: {error}", file=sys.stderr)
        return 2
    header, rows = read_csv(text)
    t = translator("en")
    engine = await prepare_database(config)
    try:
        async with session_factory(engine)() as db, db.begin():
            school = await pe.school_by_key(db, school_key)
            if school is None:
                print(f"citybot: unknown school {school_key!r}", file=sys.stderr)
                return 2
            good, errors = pe.validate_rows(
                header,
                rows,
                school,
                config.city.tz,
                utcnow(),
                room_required=config.evenings.bigbluebutton is None,
            )
            if errors:
                for line, error in errors:
                    print(f"line {line}: {t(error.key, **error.values)}", file=sys.stderr)
                print("nothing imported", file=sys.stderr)
                return 1
            count = await pe.import_rows(db, school, good)
    finally:
        await engine.dispose()
    print(f"imported {count} sessions for {school.name}")
    return 0
