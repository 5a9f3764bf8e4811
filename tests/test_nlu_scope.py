"""Negation and contrast scope (issue 16): the features, and contrast messages classified right."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import EmbeddedNLU, default_data_dir
from nlu.embedded import FEATURES, classifier_text
from nlu.features import BOUNDARY, FeatureConfig, features, scopes
from nlu.linear import LinearModel
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir
from nlu.report import load_examples

EVAL = Path(__file__).resolve().parent.parent / "nlu" / "eval"


def marked(text: str) -> list[tuple[str, str]]:
    words = classifier_text(text).split()
    return [(w, m) for w, m in zip(words, scopes(words), strict=True) if m]


def test_punctuation_becomes_a_clause_boundary_but_not_inside_numbers_and_words():
    assert classifier_text("nicht abmelden – eintragen will ich mich!") == (
        f"nicht abmelden {BOUNDARY} eintragen will ich mich"
    )
    assert classifier_text("no, thanks. bye") == f"no {BOUNDARY} thanks {BOUNDARY} bye"
    assert classifier_text("gutschein über 12,50 euro für ffp2-masken") == (
        "gutschein ueber 12 50 euro fuer ffp2 masken"
    )
    assert classifier_text("Gutschein K7QF-2M9X einlösen.") == "gutschein gutscheincode einloesen"
    assert classifier_text("?!") == ""


def test_a_negation_scopes_the_words_up_to_the_clause_boundary():
    assert marked("nicht abmelden, eintragen will ich mich") == [("abmelden", "neg")]
    assert marked("ich will keine updates vom laden") == [
        ("updates", "neg"),
        ("vom", "neg"),
        ("laden", "neg"),
    ]
    assert marked("i don't want to unfollow") == [
        ("want", "neg"),
        ("to", "neg"),
        ("unfollow", "neg"),
    ]
    assert marked("nix da") == [("da", "neg")]


def test_a_contrast_marker_ends_the_negation_and_opens_an_affirmed_scope():
    assert marked("nicht kaufen sondern einlösen") == [("kaufen", "neg"), ("einloesen", "aff")]
    assert marked("no need to follow, i only want the hours") == [
        ("need", "neg"),
        ("to", "neg"),
        ("follow", "neg"),
        ("want", "aff"),
        ("the", "aff"),
        ("hours", "aff"),
    ]
    assert marked("but not this one") == [("this", "neg"), ("one", "neg")]


def test_a_negation_scopes_at_most_six_words():
    words = ["not", "a", "b", "c", "d", "e", "f", "g", "h"]
    assert scopes(words) == ["", "neg", "neg", "neg", "neg", "neg", "neg", "", ""]


def test_replace_mode_drops_the_plain_features_of_negated_words():
    grams = features("nicht abmelden", FeatureConfig(1, 5, 2, True, "replace", True))
    assert "neg:abmelden" in grams and "w:abmelden" not in grams and " abme" not in grams
    assert "w:nicht" in grams and "w:nicht abmelden" in grams and "last:abmelden" in grams
    added = features("nicht abmelden", FeatureConfig(1, 5, 2, True, "add", True))
    assert "neg:abmelden" in added and "w:abmelden" in added


def test_affirmed_words_keep_their_plain_features():
    grams = features("nur anmelden", FeatureConfig(1, 5, 2, True, "replace", True))
    assert "aff:anmelden" in grams and "w:anmelden" in grams
    assert "aff:anmelden" not in features("nur anmelden", FeatureConfig(1, 5, 2, True, "replace"))


def test_without_scopes_a_boundary_changes_no_feature():
    plain = FeatureConfig(1, 5, 2, True)
    assert sorted(features(f"hallo {BOUNDARY} welt", plain)) == sorted(
        features("hallo welt", plain)
    )
    scoped = FeatureConfig(1, 5, 2, True, "replace", True)
    assert sorted(features(f"hallo {BOUNDARY} welt", scoped)) == sorted(
        features("hallo welt", plain)
    )


def test_the_scope_settings_survive_saving_the_model(tmp_path: Path):
    model = LinearModel.fit(
        ["nicht abmelden", "sondern anmelden", "hallo", "tschuess"],
        ["a", "b", "c", "d"],
        FEATURES,
        kind="logreg",
        c=1.0,
    )
    model.save(tmp_path / "m.npz")
    assert LinearModel.load(tmp_path / "m.npz").config == FEATURES
    assert FEATURES.negation and FEATURES.contrast


# contrast messages written for this test: in neither the training data nor the eval sets
CONTRAST: dict[str, list[tuple[str, str]]] = {
    "de": [
        ("ne, nicht folgen – ich will nur wissen ob die apotheke sonntags offen hat", "shop_info"),
        ("bitte nichts löschen!! ich will bloß sehen was gespeichert ist", "export_my_data"),
        (
            "ich will mich nicht abmelden, ich komme doch zum elternabend, trag mich ein",
            "join_parent_evening",
        ),
        (
            "keinen job für mich, die kita sucht eine erzieherin und ich soll das eintragen",
            "post_job",
        ),
        ("ich stelle niemanden ein, ich brauch selbst nen nebenjob", "find_job"),
        ("kein neuer gutschein, nur checken was auf dem alten noch drauf ist", "voucher_balance"),
        ("ich will keine neuen masken bestellen, nur wissen wo die alten bleiben", "ppe_status"),
        ("nicht den stand abfragen, wir brauchen 40 neue visiere", "request_ppe"),
        ("nicht mehr folgen, der bäcker soll mir nix mehr schicken", "unsubscribe_shop"),
        (
            "ich will nicht kündigen sondern die updates vom fahrradladen abonnieren",
            "subscribe_shop",
        ),
        ("gar keine kopie, einfach alles von mir löschen", "delete_my_data"),
        (
            "ich will nicht absagen, sondern nur sehen wann die elternabende sind",
            "list_parent_evenings",
        ),
    ],
    "en": [
        ("nah don't follow them, i just want to know if the pharmacy opens on sunday", "shop_info"),
        ("please don't erase anything!! i only want to see what's stored", "export_my_data"),
        (
            "i'm not cancelling, i'll be at the parent evening after all, put me down",
            "join_parent_evening",
        ),
        ("no job for me, the nursery needs a teacher and i'm supposed to post it", "post_job"),
        ("i'm not hiring, i need a side job myself", "find_job"),
        ("no new voucher, just check what's still on the old one", "voucher_balance"),
        ("i don't want to order new masks, only to know where the old ones are", "ppe_status"),
        ("don't check the status, we need 40 new face shields", "request_ppe"),
        ("not following anymore, the baker shouldn't send me stuff", "unsubscribe_shop"),
        ("i don't want to stop them but subscribe to the bike shop updates", "subscribe_shop"),
        ("no copy at all, just delete everything of mine", "delete_my_data"),
        ("i don't want to cancel, only see when the parent evenings are", "list_parent_evenings"),
    ],
}


def test_the_contrast_messages_are_new():
    seen = {normalize(ex.text) for ex in load_dir(default_data_dir()).examples}
    seen |= {normalize(ex.text) for ex in load_examples(EVAL)}
    assert [t for cases in CONTRAST.values() for t, _ in cases if normalize(t) in seen] == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_contrast_messages_get_the_wanted_intent(nlu_model: EmbeddedNLU, lang: str):
    got = {text: nlu_model.parse_sync(text, lang)["intent"]["name"] for text, _ in CONTRAST[lang]}
    misses = [(text, want, got[text]) for text, want in CONTRAST[lang] if got[text] != want]
    assert len(misses) <= 1, misses
