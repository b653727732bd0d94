"""The documentation's pictures are drawn by a script from the library, and the pages show them."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "text_to_action.png": "docs/concepts.md",
    "grounding_grid.png": "docs/spaces/grounding.md",
    "camera_bins.png": "docs/concepts.md",
}


def test_the_script_draws_every_picture(tmp_path):
    pytest.importorskip("matplotlib")
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_figures.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in FIGURES:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name
        assert str(tmp_path / name) in out.stdout


def test_the_pages_show_the_committed_pictures():
    for name, page in FIGURES.items():
        assert (ROOT / "docs" / "images" / name).is_file(), name
        assert f"images/{name}" in (ROOT / page).read_text(encoding="utf-8"), (name, page)
