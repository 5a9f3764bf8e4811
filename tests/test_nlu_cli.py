"""`citybot nlu validate | evaluate | export-rasa`, called in-process on small data (fast)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import Config, config_from_mapping
from nlu import cli, default_data_dir
from nlu.rasa_yaml import load_dir, load_files
from nlu.report import (
    CV_UNSCORED_ENTITIES,
    _write_plain_png,
    build_report,
    cross_validate,
    load_examples,
    predict_all,
)
from nlu.validate import check, validate_dir
from tests.conftest import shared_nlu_cache

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"

TINY = {
    "de": {
        "greet": [
            "hallo",
            "hallo du",
            "guten morgen",
            "moin moin",
            "hi bot",
            "servus",
            "hallo zusammen",
            "guten tag",
        ],
        "find_job": [
            "ich suche arbeit in der [pflege](job_field:nursing)",
            "jobs im lager",
            "suche eine stelle",
            "gibt es arbeit",
            "ich brauche einen job",
            "stellen in der [pflege](job_field:nursing)",
            "arbeit gesucht",
            "welche jobs gibt es",
        ],
        "out_of_scope": [
            "wie wird das wetter",
            "wer wird meister",
            "was kostet brot",
            "erzähl einen witz",
            "wie alt bist du",
            "regnet es morgen",
        ],
    },
    "en": {
        "greet": [
            "hello",
            "hi there",
            "good morning",
            "hey bot",
            "hello everyone",
            "hiya",
            "good evening",
            "hey there",
        ],
        "find_job": [
            "i am looking for work in [nursing](job_field)",
            "warehouse jobs",
            "looking for a job",
            "any open positions",
            "i need a job",
            "jobs in [nursing](job_field)",
            "job search",
            "which jobs are there",
        ],
        "out_of_scope": [
            "what is the weather",
            "who will win the league",
            "tell a joke",
            "how old are you",
            "will it rain tomorrow",
            "price of bread",
        ],
    },
}


def write_data(folder: Path, data: dict[str, dict[str, list[str]]]) -> Path:
    for lang, intents in data.items():
        (folder / lang).mkdir(parents=True, exist_ok=True)
        doc = {
            "version": "3.1",
            "nlu": [
                {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
                for intent, texts in intents.items()
            ],
        }
        (folder / lang / "nlu.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    return folder


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    cache = shared_nlu_cache(tmp_path_factory)
    database = tmp_path_factory.getbasetemp() / "nlu-cli.db"
    return config_from_mapping({"nlu": {"cache_dir": str(cache)},
                                "storage": {"url": f"sqlite+aiosqlite:///{database}"}})


def run(config: Config, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    cli.register(parser.add_subparsers(dest="command"), common)
    return cli.run(parser.parse_args(["nlu", *argv]), config)


def test_validate_accepts_the_packaged_data(config: Config, capsys: pytest.CaptureFixture):
    assert validate_dir(default_data_dir()).errors == []
    assert run(config, "validate") == 0
    assert "0 errors" in capsys.readouterr().out


def test_validate_reports_unknown_names_clashes_and_duplicates(tmp_path: Path):
    bad = {
        "de": {
            "greet": ["hallo", "Hallo!", "jobs bitte"],
            "find_jobs": ["jobs bitte"],
            "find_job": ["arbeit als [koch](beruf)", "stelle als [koch](job_field:chef)"],
        }
    }
    data = load_dir(write_data(tmp_path, bad))
    findings = check(data, min_examples=2)
    text = "\n".join(findings.errors)
    assert "unknown intent 'find_jobs'" in text
    assert "unknown entity 'beruf'" in text
    assert "'jobs bitte' is in two intents" in text
    assert "not canonical" in text
    assert any("duplicate example 'hallo'" in w for w in findings.warnings)
    assert any("no examples" in e for e in findings.errors)  # e.g. thanks


def test_validate_exit_code_on_broken_yaml(
    tmp_path: Path, config: Config, capsys: pytest.CaptureFixture
):
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "x.yml").write_text("nlu: [unclosed")
    assert run(config, "validate", "--data", str(tmp_path)) == 1
    assert "error:" in capsys.readouterr().out


def test_evaluate_cross_validation_prints_every_metric(
    tmp_path: Path, config: Config, capsys: pytest.CaptureFixture
):
    data_dir = write_data(tmp_path / "data", TINY)
    png = tmp_path / "cm.png"
    assert run(config, "evaluate", "--cv", "2", "--data", str(data_dir), "--png", str(png)) == 0
    out = capsys.readouterr().out
    for needle in (
        "2-fold cross-validation",
        "intent accuracy:",
        "(de=",
        "en=",
        "intent macro F1:",
        "entities (micro)",
        "job_field",
        "most confused",
        "nlu_fallback",
        "training time per fold",
    ):
        assert needle in out, needle
    assert png.read_bytes().startswith(PNG)


def test_evaluate_a_jsonl_file_as_json(
    tmp_path: Path, config: Config, capsys: pytest.CaptureFixture
):
    rows = [
        {
            "text": "ich suche arbeit in der pflege",
            "lang": "de",
            "intent": "find_job",
            "entities": [{"entity": "job_field", "value": "nursing"}],
        },
        {
            "text": "gutschein über 25 euro für die buchhandlung",
            "lang": "de",
            "intent": "order_voucher",
            "entities": [{"entity": "amount", "value": 2500}],
        },
        {
            "text": "who won the football match yesterday",
            "lang": "en",
            "intent": "out_of_scope",
            "entities": [],
        },
    ]
    test_file = tmp_path / "test.jsonl"
    test_file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    png = tmp_path / "cm.png"
    assert run(config, "evaluate", str(test_file), "--json", "--png", str(png)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 3
    assert report["accuracy"] == 1.0
    assert report["entities"]["amount"]["recall"] == 1.0
    assert report["entities"]["job_field"]["precision"] == 1.0
    assert set(report["intents"]) == {"find_job", "order_voucher", "nlu_fallback"}
    assert png.read_bytes().startswith(PNG)


def test_evaluate_trains_on_foreign_single_language_data(
    tmp_path: Path, config: Config, capsys: pytest.CaptureFixture
):
    train = tmp_path / "train.yml"
    train.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: alarm_set\n  examples: |\n"
        + "".join(
            f"    - {t}\n"
            for t in [
                "wake me up at [seven am](time)",
                "set an alarm for [six](time)",
                "alarm at [noon](time) please",
                "set alarm",
                "new alarm for [nine pm](time)",
            ]
        )
        + "- intent: play_music\n  examples: |\n"
        + "".join(
            f"    - {t}\n"
            for t in [
                "play some [jazz](genre)",
                "put on music",
                "play [rock](genre) music",
                "i want to hear a song",
                "start my playlist",
            ]
        )
    )
    test = tmp_path / "test.yml"
    test.write_text(
        'version: "3.1"\nnlu:\n- intent: alarm_set\n  examples: |\n'
        "    - please set an alarm for [seven am](time)\n"
        "- intent: play_music\n  examples: |\n    - play [jazz](genre) now\n"
    )
    assert (
        run(config, "evaluate", "--train", str(train), str(test), "--png", str(tmp_path / "cm.png"))
        == 0
    )
    out = capsys.readouterr().out
    assert "intent accuracy: 1.000" in out
    assert "training time:" in out
    assert "genre" in out and "time" in out


def test_evaluate_train_needs_a_test_file(tmp_path: Path, config: Config):
    assert run(config, "evaluate", "--train", str(tmp_path / "x.yml")) == 2


def test_export_rasa_writes_a_loadable_project(tmp_path: Path, config: Config):
    assert run(config, "export-rasa", str(tmp_path)) == 0
    cfg = yaml.safe_load((tmp_path / "config.yml").read_text())
    names = [c["name"] for c in cfg["pipeline"]]
    assert names[0] == "WhitespaceTokenizer" and "FallbackClassifier" in names
    assert "EntitySynonymMapper" in names
    domain = yaml.safe_load((tmp_path / "domain.yml").read_text())
    ours = load_dir(default_data_dir())
    assert set(domain["intents"]) == set(ours.intents)
    exported = load_files([tmp_path / "data" / "nlu.yml"])
    assert set(exported.intents) == set(ours.intents)
    assert exported.synonyms == ours.synonyms
    assert set(exported.regexes) == set(ours.regexes)
    spans = {(s.entity, s.value) for ex in exported.examples for s in ex.entities}
    assert ("job_field", "nursing") in spans
    assert len(exported.examples) >= 0.95 * len(ours.examples)  # only exact repeats dropped


def test_load_examples_from_a_folder_keeps_languages(tmp_path: Path):
    write_data(tmp_path, TINY)
    langs = {ex.lang for ex in load_examples(tmp_path)}
    assert langs == {"de", "en"}


def test_report_counts_entities_per_type():
    from nlu.report import Prediction

    preds = [
        Prediction("de", "a", "a", "a", [("x", "1"), ("y", "2")], [("x", "1"), ("y", "3")]),
        Prediction("de", "b", "a", "a", [], [("x", "5")]),
    ]
    report = build_report(preds)
    assert report.accuracy == 0.5
    assert report.entities["x"].precision == 0.5 and report.entities["x"].recall == 1.0
    assert report.entities["y"].precision == 0.0
    assert report.confused == [("b", "a", 1)]
    assert predict_all  # the helper the CLI uses


def test_plain_png_writer(tmp_path: Path):
    path = tmp_path / "m.png"
    _write_plain_png([[3, 1], [0, 2]], path)
    assert path.read_bytes().startswith(PNG)


def test_nlu_help_lists_every_subcommand():
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlu", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for command in ("parse", "train", "validate", "evaluate", "export-rasa"):
        assert command in out


def test_cross_validation_leaves_catalogue_and_rule_entities_unscored(tmp_path: Path):
    tiny = {lang: dict(intents) for lang, intents in TINY.items()}
    tiny["de"]["find_job"] = [*TINY["de"]["find_job"], "arbeit in der [innenstadt](location)",
                              "[zwei](quantity) jobs in der [pflege](job_field:nursing)"]
    preds, _ = cross_validate(load_dir(write_data(tmp_path, tiny)), folds=2, threshold=0.0)
    scored = {entity for p in preds for entity, _ in p.gold_entities + p.predicted_entities}
    assert "job_field" in scored
    assert scored.isdisjoint(CV_UNSCORED_ENTITIES)
