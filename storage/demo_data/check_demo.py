"""Validate the demo YAML files in storage/demo_data: structure, cross-references and counts."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

DEMO_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DEMO_DIR.parent.parent))

from storage.jobs import EMPLOYMENT_TYPES, JOB_FIELDS  # noqa: E402

FILES = ("districts", "employers", "jobs", "shops", "schools", "ppe")

SHOP_CATEGORIES = (
    "bakery",
    "cafe",
    "restaurant",
    "bookshop",
    "florist",
    "fashion",
    "bike",
    "grocery",
    "pharmacy",
    "other",
)
PPE_ITEMS = (
    "ffp2_mask",
    "surgical_mask",
    "gloves",
    "gown",
    "face_shield",
    "goggles",
    "disinfectant",
)
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[a-z0-9._+-]+@((?:[a-z0-9-]+\.)+example)$")
PHONE = re.compile(r"^0231 \d{4}-\d{2}$")
HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
ADDRESS = re.compile(r"^\S.* \d+[a-z]?, 44\d{3} Dortmund$")
SCHOOL_CLASS = re.compile(r"^(?:(?P<grade>[1-9]|1[0-3])[a-f]|EF|Q1|Q2)$")
# a sentence ends at . ! ? before a capital letter, unless a digit precedes ("1. August")
SENTENCE_END = re.compile(r"(?<!\d)[.!?]\s+(?=[A-ZÄÖÜ\"„])")

REQUIRED_SHOPS = (
    "Bäckerei Müller",
    "Café Rosa",
    "Buchhandlung am Markt",
    "Blumenladen Lindenblüte",
)
REQUIRED_SHOP_CATEGORIES = (
    "bike",
    "pharmacy",
    "fashion",
    "grocery",
    "restaurant",
    "bookshop",
    "florist",
    "bakery",
    "cafe",
)
REQUIRED_SCHOOLS = ("Grundschule am Park", "Goethe-Gymnasium")
REQUIRED_DEPARTMENTS = ("Ordnungsamt", "Feuerwehr", "Gesundheitsamt", "Jugendamt", "Bürgerdienste")

JOB_KEYS = {
    "employer",
    "title",
    "field",
    "employment_type",
    "district",
    "description",
    "contact",
    "posted_days_ago",
}
EMPLOYER_KEYS = {"key", "name", "district", "contact"}
SHOP_KEYS = {
    "key",
    "name",
    "category",
    "district",
    "aliases",
    "address",
    "opening_hours",
    "delivers",
    "sells_vouchers",
    "latitude",
    "longitude",
    "updates",
}
SCHOOL_KEYS = {"key", "name", "aliases", "district", "classes"}


class StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys."""


def _construct_mapping(
    loader: StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def transliterate(text: str) -> str:
    """German umlaut-free spelling: ä -> ae, ß -> ss, é -> e."""
    table = {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "é": "e",
        "É": "E",
        "è": "e",
    }
    return "".join(table.get(ch, ch) for ch in text)


def needs_transliteration(text: str) -> bool:
    return transliterate(text) != text


def sentence_count(text: str) -> int:
    text = " ".join(text.split())
    return len(SENTENCE_END.findall(text)) + 1


class Checker:
    """Collects problems while checking the demo files."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.data: dict[str, dict[str, Any]] = {}

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # -- loading -----------------------------------------------------------------------------

    def load(self) -> bool:
        for name in FILES:
            path = DEMO_DIR / f"{name}.yaml"
            if not path.is_file():
                self.fail(path.name, "missing")
                continue
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                self.fail(path.name, f"not UTF-8: {exc}")
                continue
            try:
                for event in yaml.parse(text, Loader=yaml.SafeLoader):
                    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                        self.fail(
                            path.name,
                            f"uses YAML anchors/aliases (line {event.start_mark.line + 1})",
                        )
                        break
                data = yaml.load(text, Loader=StrictLoader)
            except yaml.YAMLError as exc:
                self.fail(path.name, f"invalid YAML: {exc}")
                continue
            if not isinstance(data, dict):
                self.fail(path.name, "top level is not a mapping")
                continue
            self.data[name] = data
        return len(self.data) == len(FILES)

    def rows(self, file: str, key: str) -> list[dict[str, Any]]:
        rows = self.data.get(file, {}).get(key)
        if not isinstance(rows, list) or not rows:
            self.fail(f"{file}.yaml", f"'{key}' must be a non-empty list")
            return []
        good = [r for r in rows if isinstance(r, dict)]
        if len(good) != len(rows):
            self.fail(f"{file}.yaml", f"every entry of '{key}' must be a mapping")
        return good

    # -- helpers -----------------------------------------------------------------------------

    def text(self, where: str, row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"'{key}' must be a non-empty string")
            return ""
        if value != value.strip():
            self.fail(where, f"'{key}' has leading/trailing whitespace")
        return value

    def keys(self, where: str, row: dict[str, Any], expected: set[str]) -> None:
        missing = expected - row.keys()
        extra = row.keys() - expected
        if missing:
            self.fail(where, f"missing {sorted(missing)}")
        if extra:
            self.fail(where, f"unknown keys {sorted(extra)}")

    def aliases(self, where: str, row: dict[str, Any]) -> list[str]:
        value = row.get("aliases")
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(a, str) and a.strip() for a in value)
        ):
            self.fail(where, "'aliases' must be a non-empty list of strings")
            return []
        folded = [a.casefold() for a in value]
        dupes = [a for a, n in Counter(folded).items() if n > 1]
        if dupes:
            self.fail(where, f"duplicate aliases {dupes}")
        if str(row.get("name", "")).casefold() in folded:
            self.fail(where, "an alias repeats the name")
        return value

    def unique(self, where: str, values: list[str], what: str) -> None:
        for value, n in Counter(values).items():
            if n > 1:
                self.fail(where, f"{what} {value!r} occurs {n} times")

    def count_between(self, where: str, n: int, low: int, high: int, what: str) -> None:
        if not low <= n <= high:
            self.fail(where, f"{n} {what}, expected {low}-{high}")

    def contact(self, where: str, value: str) -> None:
        if not (EMAIL.match(value) or PHONE.match(value)):
            self.fail(
                where,
                f"contact {value!r} is neither an e-mail on a .example domain "
                "nor a phone number like '0231 1234-56'",
            )

    # -- files -------------------------------------------------------------------------------

    def check_districts(self) -> set[str]:
        rows = self.rows("districts", "districts")
        names: list[str] = []
        for i, row in enumerate(rows):
            where = f"districts.yaml #{i + 1}"
            self.keys(where, row, {"name", "aliases"})
            name = self.text(where, row, "name")
            names.append(name)
            for form in [name, *self.aliases(where, row)]:
                if needs_transliteration(form) and transliterate(form).casefold() not in {
                    a.casefold() for a in row.get("aliases", [])
                }:
                    self.fail(
                        where, f"{form!r} needs the umlaut-free alias {transliterate(form)!r}"
                    )
        self.unique("districts.yaml", names, "district name")
        self.count_between("districts.yaml", len(rows), 10, 15, "districts")
        return set(names)

    def check_employers(self, districts: set[str]) -> dict[str, dict[str, Any]]:
        rows = self.rows("employers", "employers")
        employers: dict[str, dict[str, Any]] = {}
        for i, row in enumerate(rows):
            key = row.get("key")
            where = f"employers.yaml #{i + 1} ({key})"
            self.keys(where, row, EMPLOYER_KEYS)
            if not isinstance(key, str) or not SLUG.match(key):
                self.fail(where, "'key' must be a slug like 'klinikum-nord'")
                continue
            self.text(where, row, "name")
            if row.get("district") not in districts:
                self.fail(where, f"unknown district {row.get('district')!r}")
            self.contact(where, self.text(where, row, "contact"))
            employers.setdefault(key, row)
        self.unique("employers.yaml", [str(r.get("key")) for r in rows], "key")
        self.unique("employers.yaml", [str(r.get("name")) for r in rows], "name")
        self.count_between("employers.yaml", len(rows), 15, 20, "employers")
        return employers

    def check_jobs(
        self, districts: set[str], employers: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        rows = self.rows("jobs", "jobs")
        for i, row in enumerate(rows):
            where = f"jobs.yaml #{i + 1} ({row.get('employer')}: {row.get('title')})"
            self.keys(where, row, JOB_KEYS)
            employer = employers.get(row.get("employer"))  # type: ignore[arg-type]
            if employer is None:
                self.fail(where, f"unknown employer {row.get('employer')!r}")
            title = self.text(where, row, "title")
            if "(m/w/d)" not in title:
                self.fail(where, "title lacks '(m/w/d)'")
            if row.get("field") not in JOB_FIELDS:
                self.fail(where, f"unknown field {row.get('field')!r}")
            if row.get("employment_type") not in EMPLOYMENT_TYPES:
                self.fail(where, f"unknown employment_type {row.get('employment_type')!r}")
            if row.get("district") not in districts:
                self.fail(where, f"unknown district {row.get('district')!r}")
            description = self.text(where, row, "description")
            if description:
                if description.rstrip()[-1] not in ".!?":
                    self.fail(where, "description must end with a full stop")
                n = sentence_count(description)
                if not 2 <= n <= 4:
                    self.fail(where, f"description has {n} sentences, expected 2-4")
            contact = self.text(where, row, "contact")
            self.contact(where, contact)
            if employer is not None and contact:
                employer_mail = EMAIL.match(str(employer.get("contact", "")))
                job_mail = EMAIL.match(contact)
                if employer_mail and job_mail and job_mail.group(1) != employer_mail.group(1):
                    self.fail(
                        where,
                        f"contact domain differs from the employer's ({employer_mail.group(1)})",
                    )
                if employer_mail and not job_mail:
                    self.fail(where, "employer uses e-mail, job contact does not")
            days = row.get("posted_days_ago")
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 40:
                self.fail(where, f"posted_days_ago {days!r} must be an integer 0-40")
        self.unique(
            "jobs.yaml", [f"{r.get('employer')}: {r.get('title')}" for r in rows], "employer/title"
        )

        fields = Counter(r.get("field") for r in rows)
        types = Counter(r.get("employment_type") for r in rows)
        used_districts = {r.get("district") for r in rows}
        if len(rows) < 48:
            self.fail("jobs.yaml", f"only {len(rows)} jobs, need at least 48")
        if 3 * (fields["nursing"] + fields["care_for_elderly"]) < len(rows):
            self.fail("jobs.yaml", "less than a third of the jobs are nursing/care_for_elderly")
        for field in JOB_FIELDS:
            if fields[field] < 2:
                self.fail("jobs.yaml", f"field {field} has {fields[field]} jobs, need at least 2")
        for etype in EMPLOYMENT_TYPES:
            if types[etype] < 4:
                self.fail(
                    "jobs.yaml", f"employment type {etype} has {types[etype]} jobs, need at least 4"
                )
        if len(used_districts) < 8:
            self.fail("jobs.yaml", f"jobs in only {len(used_districts)} districts, need at least 8")
        nursing_centre = sum(
            1 for r in rows if r.get("field") == "nursing" and r.get("district") == "Innenstadt"
        )
        if nursing_centre < 3:
            self.fail("jobs.yaml", f"{nursing_centre} nursing jobs in Innenstadt, need at least 3")
        pt_logistics = sum(
            1
            for r in rows
            if r.get("field") == "logistics" and r.get("employment_type") == "part_time"
        )
        if pt_logistics < 2:
            self.fail("jobs.yaml", f"{pt_logistics} part-time logistics jobs, need at least 2")
        if len({r.get("posted_days_ago") for r in rows}) < 10:
            self.fail(
                "jobs.yaml", "posted_days_ago is hardly varied (fewer than 10 distinct values)"
            )
        without_jobs = set(employers) - {r.get("employer") for r in rows}
        if without_jobs:
            self.fail("jobs.yaml", f"employers without a job: {sorted(without_jobs)}")
        return rows

    def check_shops(self, districts: set[str]) -> list[dict[str, Any]]:
        rows = self.rows("shops", "shops")
        for i, row in enumerate(rows):
            key = row.get("key")
            where = f"shops.yaml #{i + 1} ({key})"
            self.keys(where, row, SHOP_KEYS)
            if not isinstance(key, str) or not SLUG.match(key):
                self.fail(where, "'key' must be a slug")
            name = self.text(where, row, "name")
            aliases = self.aliases(where, row)
            if needs_transliteration(name) and transliterate(name).casefold() not in {
                a.casefold() for a in aliases
            }:
                self.fail(where, f"needs the umlaut-free alias {transliterate(name)!r}")
            if row.get("category") not in SHOP_CATEGORIES:
                self.fail(where, f"unknown category {row.get('category')!r}")
            if row.get("district") not in districts:
                self.fail(where, f"unknown district {row.get('district')!r}")
            if not ADDRESS.match(self.text(where, row, "address")):
                self.fail(where, "address must look like 'Straße 12, 44139 Dortmund'")
            hours = row.get("opening_hours")
            if not isinstance(hours, dict) or set(hours) != set(WEEKDAYS):
                self.fail(where, f"opening_hours must have exactly the keys {list(WEEKDAYS)}")
            else:
                for day, span in hours.items():
                    if span is None:
                        continue
                    m = HOURS.match(span) if isinstance(span, str) else None
                    if m is None or (int(m[1]), int(m[2])) >= (int(m[3]), int(m[4])):
                        self.fail(
                            where, f"opening_hours.{day} {span!r} is not 'HH:MM-HH:MM' or null"
                        )
                if all(v is None for v in hours.values()):
                    self.fail(where, "never open")
            for flag in ("delivers", "sells_vouchers"):
                if not isinstance(row.get(flag), bool):
                    self.fail(where, f"'{flag}' must be true or false")
            lat, lon = row.get("latitude"), row.get("longitude")
            if not (isinstance(lat, float) and 51.3 < lat < 51.7):
                self.fail(where, "'latitude' must lie in Dortmund (51.3..51.7)")
            if not (isinstance(lon, float) and 7.2 < lon < 7.7):
                self.fail(where, "'longitude' must lie in Dortmund (7.2..7.7)")
            updates = row.get("updates")
            if not isinstance(updates, list) or not updates or not all(
                isinstance(u, dict)
                and set(u) == {"days_ago", "text"}
                and isinstance(u["days_ago"], int)
                and u["days_ago"] >= 0
                and isinstance(u["text"], str)
                and 0 < len(u["text"]) <= 1000
                for u in updates
            ):
                self.fail(where, "'updates' must be a list of {days_ago, text}")
        self.unique("shops.yaml", [str(r.get("key")) for r in rows], "key")
        self.unique("shops.yaml", [str(r.get("name")) for r in rows], "name")
        names = {r.get("name") for r in rows}
        for required in REQUIRED_SHOPS:
            if required not in names:
                self.fail("shops.yaml", f"missing shop {required!r}")
        categories = {r.get("category") for r in rows}
        for category in REQUIRED_SHOP_CATEGORIES:
            if category not in categories:
                self.fail("shops.yaml", f"no shop of category {category!r}")
        if not any(r.get("sells_vouchers") is True for r in rows):
            self.fail("shops.yaml", "no shop sells vouchers")
        self.count_between("shops.yaml", len(rows), 12, 16, "shops")
        return rows

    def check_schools(self, districts: set[str]) -> list[dict[str, Any]]:
        rows = self.rows("schools", "schools")
        for i, row in enumerate(rows):
            key = row.get("key")
            where = f"schools.yaml #{i + 1} ({key})"
            self.keys(where, row, SCHOOL_KEYS)
            if not isinstance(key, str) or not SLUG.match(key):
                self.fail(where, "'key' must be a slug")
            name = self.text(where, row, "name")
            aliases = self.aliases(where, row)
            if needs_transliteration(name) and transliterate(name).casefold() not in {
                a.casefold() for a in aliases
            }:
                self.fail(where, f"needs the umlaut-free alias {transliterate(name)!r}")
            if row.get("district") not in districts:
                self.fail(where, f"unknown district {row.get('district')!r}")
            classes = row.get("classes")
            if not isinstance(classes, list) or not classes:
                self.fail(where, "'classes' must be a non-empty list")
                continue
            self.unique(where, [str(c) for c in classes], "class")
            primary = "grundschule" in name.casefold()
            for cls in classes:
                m = SCHOOL_CLASS.match(str(cls)) if isinstance(cls, str) else None
                if m is None:
                    self.fail(where, f"class {cls!r} is not like '4b', 'EF' or 'Q1'")
                elif primary and (m["grade"] is None or int(m["grade"]) > 4):
                    self.fail(where, f"primary school with class {cls!r}")
                elif not primary and m["grade"] is not None and int(m["grade"]) < 5:
                    self.fail(where, f"secondary school with class {cls!r}")
        self.unique("schools.yaml", [str(r.get("key")) for r in rows], "key")
        self.unique("schools.yaml", [str(r.get("name")) for r in rows], "name")
        names = {r.get("name") for r in rows}
        for required in REQUIRED_SCHOOLS:
            if required not in names:
                self.fail("schools.yaml", f"missing school {required!r}")
        self.count_between("schools.yaml", len(rows), 5, 8, "schools")
        return rows

    def check_ppe(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        rows = self.rows("ppe", "departments")
        for i, row in enumerate(rows):
            where = f"ppe.yaml department #{i + 1}"
            self.keys(where, row, {"key", "name"})
            if not isinstance(row.get("key"), str) or not SLUG.match(row["key"]):
                self.fail(where, "'key' must be a slug")
            self.text(where, row, "name")
        self.unique("ppe.yaml", [str(r.get("key")) for r in rows], "department key")
        self.unique("ppe.yaml", [str(r.get("name")) for r in rows], "department name")
        names = {r.get("name") for r in rows}
        for required in REQUIRED_DEPARTMENTS:
            if required not in names:
                self.fail("ppe.yaml", f"missing department {required!r}")
        self.count_between("ppe.yaml", len(rows), 6, 10, "departments")
        stock = self.data.get("ppe", {}).get("stock")
        if not isinstance(stock, dict) or set(stock) != set(PPE_ITEMS):
            self.fail("ppe.yaml", f"stock must have exactly the items {list(PPE_ITEMS)}")
            return rows, {}
        for item, units in stock.items():
            if isinstance(units, bool) or not isinstance(units, int) or units < 0:
                self.fail("ppe.yaml", f"stock.{item} {units!r} must be a non-negative integer")
        return rows, stock

    def check_catalogue(self) -> None:
        """No surface form (name or alias) may point at two different catalogue entries."""
        owner: dict[str, str] = {}
        sources = (
            ("district", "districts", "districts"),
            ("shop", "shops", "shops"),
            ("school", "schools", "schools"),
        )
        for kind, file, key in sources:
            for row in self.data.get(file, {}).get(key) or []:
                if not isinstance(row, dict):
                    continue
                entry = f"{kind} {row.get('name')!r}"
                for form in [row.get("name"), *(row.get("aliases") or [])]:
                    if not isinstance(form, str):
                        continue
                    folded = " ".join(form.casefold().split())
                    if owner.setdefault(folded, entry) != entry:
                        self.fail("catalogue", f"{form!r} names both {owner[folded]} and {entry}")


def main() -> int:
    checker = Checker()
    if not checker.load():
        for problem in checker.problems:
            print(f"PROBLEM {problem}")
        return 1
    districts = checker.check_districts()
    employers = checker.check_employers(districts)
    jobs = checker.check_jobs(districts, employers)
    shops = checker.check_shops(districts)
    schools = checker.check_schools(districts)
    departments, stock = checker.check_ppe()
    checker.check_catalogue()

    fields = Counter(j.get("field") for j in jobs)
    types = Counter(j.get("employment_type") for j in jobs)
    by_district = Counter(j.get("district") for j in jobs)
    care = fields["nursing"] + fields["care_for_elderly"]
    share = care / max(len(jobs), 1)
    nursing_centre = sum(
        1 for j in jobs if j.get("field") == "nursing" and j.get("district") == "Innenstadt"
    )
    pt_logistics = sum(
        1 for j in jobs if j.get("field") == "logistics" and j.get("employment_type") == "part_time"
    )
    print(f"districts:   {len(districts)}")
    print(f"employers:   {len(employers)}")
    print(
        f"jobs:        {len(jobs)} (nursing + care_for_elderly {care} = {share:.0%}, "
        f"medical {fields['medical']})"
    )
    print("  fields:    " + ", ".join(f"{f} {fields[f]}" for f in JOB_FIELDS))
    print("  types:     " + ", ".join(f"{t} {types[t]}" for t in EMPLOYMENT_TYPES))
    print(
        f"  districts: {len(by_district)} used: "
        + ", ".join(f"{d} {n}" for d, n in by_district.most_common())
    )
    print(f"  nursing in Innenstadt: {nursing_centre}, part-time logistics: {pt_logistics}")
    print(
        f"shops:       {len(shops)} ("
        + ", ".join(
            f"{c} {n}" for c, n in sorted(Counter(s.get("category") for s in shops).items())
        )
        + ")"
    )
    print(
        f"schools:     {len(schools)} ({sum(len(s.get('classes') or []) for s in schools)} classes)"
    )
    print(
        f"ppe:         {len(departments)} departments, {len(stock)} stock items "
        f"({sum(stock.values()) if stock else 0} units)"
    )
    if checker.problems:
        for problem in checker.problems:
            print(f"PROBLEM {problem}")
        print(f"FAILED: {len(checker.problems)} problem(s)")
        return 1
    print("OK: all demo data checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
