"""`citybot shop poster KEY`: an A4 PDF (or PNG) whose QR code opens the shop's card."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from handlers.shop_poster import deep_link, qr_matrix
from tests.test_cli import citybot

LINK = "https://t.me/citybot_dortmund_bot?start=shop-cafe-rosa"


@pytest.fixture
def workdir(tmp_path: Path, nlu_cache_dir: Path) -> Path:
    """A config with the bot's username for the poster link and a Matrix id to print."""
    (tmp_path / "config.yaml").write_text(
        "storage:\n  url: sqlite+aiosqlite:///data/test.db\n"
        f"nlu:\n  cache_dir: {nlu_cache_dir}\n"
        "shops:\n  telegram_bot: citybot_dortmund_bot\n"
    )
    return tmp_path


def test_the_deep_link_is_the_shop_start_payload():
    assert deep_link("citybot_dortmund_bot", "cafe-rosa") == LINK


def test_the_qr_matrix_decodes_to_the_link():
    rows = qr_matrix(LINK)
    scale = 8
    image = Image.new("L", (len(rows[0]) * scale, len(rows) * scale), 255)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [LINK]


def test_png_poster_qr_decodes_to_the_deep_link(workdir):
    out = workdir / "rosa.png"
    result = citybot(workdir, "shop", "poster", "cafe-rosa", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert LINK in result.stdout
    image = Image.open(out)
    assert image.size == (1240, 1753), "A4 at 150 dpi"
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [LINK]


def test_pdf_poster_is_one_a4_page(workdir):
    pdf = workdir / "poster.pdf"
    result = citybot(workdir, "shop", "poster", "cafe-rosa", "--out", str(pdf))
    assert result.returncode == 0, result.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/MediaBox \[ ?0 0 595\.4\d* 841\.6\d* ?\]", data)
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") == 1


def test_bad_requests_are_refused(workdir, tmp_path):
    unknown = citybot(workdir, "shop", "poster", "gibts-nicht", "--out", str(tmp_path / "x.pdf"))
    assert unknown.returncode == 2 and "no shop with the key" in unknown.stderr
    wrong = citybot(workdir, "shop", "poster", "cafe-rosa", "--out", str(tmp_path / "x.docx"))
    assert wrong.returncode == 2 and ".pdf or .png" in wrong.stderr
    (workdir / "config.yaml").write_text("storage:\n  url: sqlite+aiosqlite:///data/test.db\n")
    unset = citybot(workdir, "shop", "poster", "cafe-rosa", "--out", str(tmp_path / "x.pdf"))
    assert unset.returncode == 2 and "shops.telegram_bot" in unset.stderr
