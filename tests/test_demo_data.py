"""The demo data files are consistent (cross-references, enumerations, counts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = Path(__file__).resolve().parent.parent / "storage" / "demo_data" / "check_demo.py"


def test_demo_data_passes_its_checks():
    result = subprocess.run(
        [sys.executable, str(CHECK)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: all demo data checks passed" in result.stdout
