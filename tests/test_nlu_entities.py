"""Entity extraction: synonyms with typos, spans in the original text, numbers, codes, overlaps."""

from __future__ import annotations

import pytest

from nlu import DEFAULT_THRESHOLD, Catalogue, EmbeddedNLU
from nlu.entities import resolve
from nlu.numbers import find_voucher_codes, german_number_word
from tests.conftest import shared_nlu_cache, trained_nlu

JOB_FIELDS = {
    "nursing", "care_for_elderly", "medical", "retail", "logistics", "gastronomy", "cleaning",
    "it", "education", "crafts", "office", "agriculture",
}
EMPLOYMENT_TYPES = {"full_time", "part_time", "mini_job", "temporary", "apprenticeship"}
PPE_ITEMS = {"ffp2_mask", "surgical_mask", "gloves", "gown", "face_shield", "goggles",
             "disinfectant"}


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNLU:
    cache = shared_nlu_cache(tmp_path_factory)
    catalogue = Catalogue({"location": {"Innenstadt": ["Innenstadt", "city centre", "Mitte"],
                                        "Hörde": ["Hörde"]}})
    return trained_nlu(cache, threshold=DEFAULT_THRESHOLD, catalogue=catalogue)


def found(nlu: EmbeddedNLU, text: str, entity: str) -> list[tuple[object, str]]:
    """(value, original surface) of every entity of one type."""
    return [(e["value"], text[e["start"] : e["end"]]) for e in nlu.entities(text)
            if e["entity"] == entity]


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [
        ("ich suche was in der Pflege", "nursing", "Pflege"),
        ("Krankenschwester gesucht", "nursing", "Krankenschwester"),
        ("krankenschwetser gesucht", "nursing", "krankenschwetser"),
        ("PFLEGEKRAFT in teilzeit", "nursing", "PFLEGEKRAFT"),
        ("neue pflegejobs?", "nursing", "pflegejobs"),
        ("meine mama braucht arbeit als pflegerin", "nursing", "pflegerin"),
        ("stelle in der altenpflege", "care_for_elderly", "altenpflege"),
        ("altenpflgerin gesucht", "care_for_elderly", "altenpflgerin"),
        ("bin MFA", "medical", "MFA"),
        ("job als arzthelferin", "medical", "arzthelferin"),
        ("lagerhelfer job", "logistics", "lagerhelfer"),
        ("jobs im Lager", "logistics", "Lager"),
        ("any warehouse jobs", "logistics", "warehouse"),
        ("erzieherin gesucht", "education", "erzieherin"),
        ("alten pflege", "care_for_elderly", "alten pflege"),
        ("an der Kasse arbeiten", "retail", "Kasse"),
        ("als Verkäuferin", "retail", "Verkäuferin"),
        ("als verkaeuferin", "retail", "verkaeuferin"),
        ("als verkauferin", "retail", "verkauferin"),
        ("als koch in hörde", "gastronomy", "koch"),
        ("job in der kueche", "gastronomy", "kueche"),
        ("kellner gesucht", "gastronomy", "kellner"),
        ("reinigung", "cleaning", "reinigung"),
        ("handwerk", "crafts", "handwerk"),
        ("Elektriker gesucht", "crafts", "Elektriker"),
        ("was im büro", "office", "büro"),
        ("verwaltung", "office", "verwaltung"),
        ("landwirtschaft", "agriculture", "landwirtschaft"),
        ("IT jobs in der innenstadt", "it", "IT jobs"),
        ("software developer position", "it", "software developer"),
        ("looking for nursing positions", "nursing", "nursing"),
        ("jobs in a care home", "care_for_elderly", "care home"),
    ],
)
def test_job_field(nlu: EmbeddedNLU, text: str, value: str, surface: str):
    assert found(nlu, text, "job_field") == [(value, surface)]


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [
        ("suche Vollzeit", "full_time", "Vollzeit"),
        ("in teilzeit bitte", "part_time", "teilzeit"),
        ("teilzet", "part_time", "teilzet"),
        ("ein minijob", "mini_job", "minijob"),
        ("ein 450-Euro-Job", "mini_job", "450-Euro-Job"),
        ("auf 520 euro basis", "mini_job", "520 euro basis"),
        ("als aushilfe", "temporary", "aushilfe"),
        ("befristet", "temporary", "befristet"),
        ("eine Ausbildung als koch", "apprenticeship", "Ausbildung"),
        ("als azubi", "apprenticeship", "azubi"),
        ("part-time work", "part_time", "part-time"),
        ("part time work", "part_time", "part time"),
        ("full time job", "full_time", "full time"),
        ("an apprenticeship", "apprenticeship", "apprenticeship"),
    ],
)
def test_employment_type(nlu: EmbeddedNLU, text: str, value: str, surface: str):
    assert found(nlu, text, "employment_type") == [(value, surface)]


@pytest.mark.parametrize(
    "text",
    [
        "see you later",
        "is it open today",
        "ich will nach hause fahren",
        "elternabend der klasse 4b",
        "danke dir",
        "wann hat der laden offen",
        "mein chef hat gesagt ich soll mich bewerben",
        "im auftrag meines chefs: wir brauchen hilfe",
        "parent teacher day next week",
    ],
)
def test_ordinary_words_are_not_job_fields(nlu: EmbeddedNLU, text: str):
    assert found(nlu, text, "job_field") == []


def test_a_cook_is_still_a_job_field_in_english(nlu: EmbeddedNLU):
    assert found(nlu, "our chef quit, we need a new chef", "job_field") == [
        ("gastronomy", "chef"), ("gastronomy", "chef")]


@pytest.mark.parametrize(
    "text", ["suche arbeit ohne ausbildung", "jobs without an apprenticeship",
             "ich habe keine ausbildung, gibt es trotzdem arbeit"])
def test_a_negated_employment_type_is_not_one(nlu: EmbeddedNLU, text: str):
    assert found(nlu, text, "employment_type") == []


def test_all_job_field_and_employment_values_are_canonical(nlu: EmbeddedNLU):
    matcher_values = {value for _, value in _payloads(nlu)}
    job_fields = {v for e, v in _payloads(nlu) if e == "job_field"}
    employment = {v for e, v in _payloads(nlu) if e == "employment_type"}
    ppe = {v for e, v in _payloads(nlu) if e == "ppe_item"}
    assert job_fields == JOB_FIELDS
    assert employment == EMPLOYMENT_TYPES
    assert ppe == PPE_ITEMS
    assert matcher_values


def _payloads(nlu: EmbeddedNLU) -> set[tuple[str, str]]:
    return {p for values in nlu.extractor.matcher._exact.values() for p in values}


def test_spans_point_into_the_original_text(nlu: EmbeddedNLU):
    text = "Wir suchen 2 Pflegekräfte (Teilzeit) in Hörde – ab sofort! 🙂"
    result = nlu.parse_sync(text)
    spans = {e["entity"]: (e["start"], e["end"], e["value"]) for e in result["entities"]}
    assert spans["quantity"] == (11, 12, 2)
    assert text[spans["job_field"][0] : spans["job_field"][1]] == "Pflegekräfte"
    assert text[spans["employment_type"][0] : spans["employment_type"][1]] == "Teilzeit"
    assert text[spans["location"][0] : spans["location"][1]] == "Hörde"


def test_longest_overlapping_match_wins(nlu: EmbeddedNLU):
    # "nursing home" (elderly care) contains "nursing"
    assert found(nlu, "jobs in a nursing home", "job_field") == [
        ("care_for_elderly", "nursing home")
    ]
    # "520 euro job" is an employment type, not an amount
    text = "suche einen 520 euro job"
    kinds = [e["entity"] for e in nlu.entities(text)]
    assert kinds == ["employment_type"]


def test_resolve_keeps_different_entities_on_the_same_span():
    same = [
        {"entity": "job_field", "value": "retail", "start": 0, "end": 5,
         "extractor": "SynonymGazetteer"},
        {"entity": "shop_category", "value": "grocery", "start": 0, "end": 5,
         "extractor": "SynonymGazetteer"},
        {"entity": "quantity", "value": 1, "start": 2, "end": 3, "extractor": "NumberParser"},
    ]
    assert [e["entity"] for e in resolve(same)] == ["job_field", "shop_category"]


@pytest.mark.parametrize(
    ("text", "entity", "value", "surface"),
    [
        ("bike shops in hörde", "shop_category", "bike", "bike shops"),
        ("which pharmacies deliver", "shop_category", "pharmacy", "pharmacies"),
        ("any florists open on sunday", "shop_category", "florist", "florists"),
        ("we need more gowns", "ppe_item", "gown", "gowns"),
    ],
)
def test_english_plurals_of_known_phrases(nlu: EmbeddedNLU, text: str, entity: str,
                                          value: str, surface: str):
    assert found(nlu, text, entity) == [(value, surface)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jobs in it pls", [("it", "it")]),
        ("any it jobs going", [("it", "it jobs")]),
        ("werkstudent in der it", [("it", "in der it")]),
        ("IT", [("it", "IT")]),
        ("is it a job for me", []),
        ("i'm interested in it", []),
        ("its a job for my son", []),
        ("a job, is it full time", []),
    ],
)
def test_lower_case_it_is_a_field_only_next_to_job_words(nlu: EmbeddedNLU, text: str,
                                                          expected: list[tuple[str, str]]):
    assert found(nlu, text, "job_field") == expected


def test_a_restaurant_job_is_gastronomy_but_our_restaurant_a_shop(nlu: EmbeddedNLU):
    assert found(nlu, "ping me when a restaurant job comes up", "job_field") == [
        ("gastronomy", "restaurant job")]
    assert found(nlu, "ping me when a restaurant job comes up", "shop_category") == []
    assert found(nlu, "unser restaurant sucht köche", "shop_category") == [
        ("restaurant", "restaurant")]


def _entity(entity: str, value: str, text: str, surface: str, extractor: str) -> dict:
    start = text.index(surface)
    return {"entity": entity, "value": value, "start": start, "end": start + len(surface),
            "extractor": extractor}


@pytest.mark.parametrize(
    ("text", "shop", "category", "kept"),
    [
        ("folge der buchhandlung am markt", "buchhandlung am markt", "buchhandlung", True),
        ("the bakery on the corner please", "bakery on the corner", "bakery", True),
        ("gutschein für café rosa", "café rosa", "café", False),
        ("öffnungszeiten bäckerei müller", "bäckerei müller", "bäckerei", False),
    ],
)
def test_a_shop_described_by_its_place_keeps_its_category(text: str, shop: str, category: str,
                                                          kept: bool):
    entities = [_entity("shop", "Some Shop", text, shop, "Catalogue"),
                _entity("shop_category", "x", text, category, "SynonymGazetteer")]
    kinds = [e["entity"] for e in resolve(entities, text)]
    assert kinds == (["shop_category", "shop"] if kept else ["shop"])


@pytest.mark.parametrize(
    ("text", "cents", "surface"),
    [
        ("gutschein über 25 €", 2500, "25 €"),
        ("12,50 Euro bitte", 1250, "12,50 Euro"),
        ("12.50 eur", 1250, "12.50 eur"),
        ("a 50€ voucher", 5000, "50€"),
        ("€5 please", 500, "€5"),
        ("fifty euros", 5000, "fifty euros"),
        ("fünfundzwanzig euro", 2500, "fünfundzwanzig euro"),
        ("zwanzig Euro", 2000, "zwanzig Euro"),
        ("1.000,00 €", 100000, "1.000,00 €"),
        ("nur 80 cent", 80, "80 cent"),
    ],
)
def test_amount_in_cents(nlu: EmbeddedNLU, text: str, cents: int, surface: str):
    assert found(nlu, text, "amount") == [(cents, surface)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("wir brauchen 200 masken", 200),
        ("zwei kartons handschuhe", 2),
        ("a dozen visors", 12),
        ("zwei dutzend masken", 24),
        ("twenty-five gloves", 25),
        ("two hundred and fifty masks", 250),
        ("dreihundert masken", 300),
        ("einundzwanzig", 21),
    ],
)
def test_quantity(nlu: EmbeddedNLU, text: str, value: int):
    assert [v for v, _ in found(nlu, text, "quantity")] == [value]


@pytest.mark.parametrize(
    "text",
    ["um 18 uhr", "am 12.5.", "für die 4b", "ffp2 masken", "K7QF-2M9X", "ich möchte einen job"],
)
def test_no_quantity_in_times_dates_classes_codes_or_articles(nlu: EmbeddedNLU, text: str):
    assert found(nlu, text, "quantity") == []


def test_german_number_words():
    assert german_number_word("fuenfundzwanzig") == 25
    assert german_number_word("zweihundertfuenfzig") == 250
    assert german_number_word("tausend") == 1000
    assert german_number_word("stunde") is None
    assert german_number_word("hundertwasser") is None


@pytest.mark.parametrize(
    ("text", "code", "surface"),
    [
        ("check balance of voucher K7QF-2M9X", "K7QF-2M9X", "K7QF-2M9X"),
        ("gutschein k7qf-2m9x einlösen", "K7QF-2M9X", "k7qf-2m9x"),
        ("code K7QF2M9X", "K7QF-2M9X", "K7QF2M9X"),
    ],
)
def test_voucher_code(nlu: EmbeddedNLU, text: str, code: str, surface: str):
    assert found(nlu, text, "voucher_code") == [(code, surface)]


@pytest.mark.parametrize(
    "text",
    [
        "tschuess", "K1QF-2M9X", "KIQF-2M9X", "K7QF-2M9X1", "ffp2-mask", "wann kann", "12345678",
        "K7QF-2MLX", "K7QU-2M9X", "K7QF-2M0X", "KOQF-2M9X",
    ],
)
def test_not_a_voucher_code(text: str):
    assert find_voucher_codes(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("wir brauchen 200 FFP2-Masken", "ffp2_mask"),
        ("ffp2 masken", "ffp2_mask"),
        ("Einmalhandschuhe", "gloves"),
        ("5 boxes of gloves", "gloves"),
        ("neue Visiere", "face_shield"),
        ("desinfektionsmittel", "disinfectant"),
        ("OP-Masken", "surgical_mask"),
        ("schutzkittel", "gown"),
    ],
)
def test_ppe_item(nlu: EmbeddedNLU, text: str, value: str):
    assert [v for v, _ in found(nlu, text, "ppe_item")] == [value]


def test_school_class(nlu: EmbeddedNLU):
    assert found(nlu, "elternabend der 4b", "school_class") == [("4b", "4b")]
    assert found(nlu, "klasse 7 elternabend", "school_class") == [("klasse 7", "klasse 7")]
