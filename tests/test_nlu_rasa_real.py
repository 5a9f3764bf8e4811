"""Opt-in: the Rasa backend against a real Rasa 3.6 server trained on `citybot nlu export-rasa`.

Not part of the default run. Either point it at a running server trained on the export:

    RASA_URL=http://127.0.0.1:5005 pytest -m rasa tests/test_nlu_rasa_real.py

or let it export, train (`rasa train nlu`, ~1 min) and serve (`rasa run --enable-api`,
~30 s to load) with a Rasa 3.6 venv (Python 3.10):

    $(pyenv root)/versions/3.10.13/bin/python -m venv /tmp/rasa-venv
    /tmp/rasa-venv/bin/pip install rasa==3.6.21
    pytest -m rasa tests/test_nlu_rasa_real.py      # RASA_VENV=... for another venv
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu import EmbeddedNLU, default_data_dir
from nlu.export_rasa import export
from nlu.rasa_backend import RasaNLU
from nlu.rasa_yaml import load_dir

pytestmark = pytest.mark.rasa

VENV = Path(os.environ.get("RASA_VENV", "/tmp/rasa-venv"))
RASA = VENV / "bin" / "rasa"
START_TIMEOUT = 300.0

CASES = [
    ("ich suche arbeit in der pflege", "find_job"),
    ("any nursing jobs in the city centre?", "find_job"),
    ("sag mir bescheid wenn es neue pflegejobs gibt", "job_alert"),
    ("wir suchen dringend zwei pflegekräfte", "post_job"),
    ("ich möchte einen gutschein über 25 euro für die buchhandlung", "order_voucher"),
    ("check balance of voucher K7QF-2M9X", "voucher_balance"),
    ("gutschein K7QF-2M9X über 12,50 einlösen", "redeem_voucher"),
    ("wir brauchen 200 ffp2 masken", "request_ppe"),
    ("status of my ppe request", "ppe_status"),
    ("welche elternabende gibt es nächste woche", "list_parent_evenings"),
    ("cancel my parent evening registration", "cancel_parent_evening"),
    ("show my appointments", "my_appointments"),
    ("does the bike shop deliver?", "shop_info"),
    ("unfollow the bookshop", "unsubscribe_shop"),
    ("lösch alle meine daten", "delete_my_data"),
    ("export my data", "export_my_data"),
    ("danke dir", "thanks"),
    ("hallo", "greet"),
    ("sprich englisch", "change_language"),
    ("abbrechen", "cancel"),
]
OUT_OF_SCOPE = [
    "wie wird das wetter morgen",
    "who won the football match",
    "wann muss ich meine steuererklärung abgeben",
    "tell me a joke about cats",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"rasa run exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/status", timeout=2) as resp:
                if resp.status == 200 and b"model_file" in resp.read():
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"rasa server at {url} not ready after {START_TIMEOUT:.0f} s")


@pytest.fixture(scope="module")
def rasa_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A running Rasa server: RASA_URL, or one trained and started from the venv."""
    if os.environ.get("RASA_URL"):
        url = os.environ["RASA_URL"].rstrip("/")
        _wait_ready(url, None, Path("/dev/null"))
        yield url
        return
    selected = "rasa" in (request.config.getoption("markexpr") or "")
    if not selected:
        pytest.skip(
            "real-Rasa test is opt-in: set RASA_URL=http://host:port (a server trained "
            "on `citybot nlu export-rasa`) or run `pytest -m rasa` with a Rasa 3.6 venv "
            f"at {VENV} (RASA_VENV)"
        )
    if not RASA.exists():
        pytest.skip(
            f"no Rasa at {RASA}: python3.10 -m venv {VENV} && "
            f"{VENV}/bin/pip install rasa==3.6.21 (or set RASA_URL)"
        )
    project = tmp_path_factory.mktemp("rasa-project")
    export(load_dir(default_data_dir()), project, threshold=0.45)
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "train", "nlu", "--out", "models"],
        cwd=project,
        check=True,
        capture_output=True,
        timeout=900,
    )
    print(f"rasa train nlu: {time.monotonic() - started:.0f} s")
    port = _free_port()
    log = project / "rasa-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "-m", "models"],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def test_real_rasa_server_parses_citybot_utterances(rasa_url: str, nlu_model: EmbeddedNLU):
    rasa = RasaNLU(rasa_url, nlu_model, timeout=10.0)
    try:
        results = {text: await rasa.parse(text) for text, _ in CASES}
        fallbacks = [await rasa.parse(text) for text in OUT_OF_SCOPE]
    finally:
        await rasa.close()
    assert rasa.healthy  # every answer came from the server, none from the fallback
    right = [text for text, intent in CASES if results[text]["intent"]["name"] == intent]
    assert len(right) / len(CASES) >= 0.8, {t: r["intent"] for t, r in results.items()}
    assert sum(r["intent"]["name"] == "nlu_fallback" for r in fallbacks) >= len(OUT_OF_SCOPE) / 2
    nursing = results["ich suche arbeit in der pflege"]["entities"]
    assert {"entity": "job_field", "value": "nursing"}.items() <= nursing[0].items()
    voucher = results["ich möchte einen gutschein über 25 euro für die buchhandlung"]
    assert {"entity": "amount", "value": 2500}.items() <= next(
        e for e in voucher["entities"] if e["entity"] == "amount"
    ).items()
    codes = [
        e["value"]
        for e in results["check balance of voucher K7QF-2M9X"]["entities"]
        if e["entity"] == "voucher_code"
    ]
    assert codes == ["K7QF-2M9X"]
    masks = results["wir brauchen 200 ffp2 masken"]["entities"]
    assert {(e["entity"], e["value"]) for e in masks} >= {
        ("quantity", 200),
        ("ppe_item", "ffp2_mask"),
    }
