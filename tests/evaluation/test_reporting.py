"""actionspaces.reporting: the markdown report and the plots of evaluated models."""

from __future__ import annotations

from pathlib import Path

import pytest

from actionspaces.reporting import plot_curves, plot_space_shares, results_markdown

SPACES = ["raw", "motion", "none"]


def _cell(asr: float, shares: tuple[float, float, float]) -> dict:
    return {"FT": float(asr > 0), "ASR": asr, "tokens_per_call": 4.0, "tokens_per_episode": 10.0 * (1 + asr),
            "calls_per_episode": 2.0, "ticks_per_episode": 30.0, "shares": dict(zip(SPACES, shares, strict=True)),
            "episodes": 3}  # fmt: skip


RESULTS = {
    model: {f"{split}/{c}": _cell(asr if split == "ID" else asr / 2, shares) for split in ("ID", "OOD")
            for c in ("all", "mine_block", "craft_item")}
    for model, asr, shares in [("a", 0.5, (1.0, 0.0, 0.0)), ("b", 1.0, (0.25, 0.5, 0.25))]
}  # fmt: skip


def test_the_report_has_every_table_in_row_order_with_the_measured_cells() -> None:
    md = results_markdown(RESULTS, title="run x", rows={"b": "Model B", "a": "Model A", "c": "absent"},
                          categories=["mine_block", "craft_item"], spaces=SPACES, findings=["B wins"])  # fmt: skip
    lines = md.splitlines()
    assert lines[0] == "# run x"
    id_rows = [line for line in lines if line.startswith("| Model ") and "FT" not in line][:2]
    assert id_rows == ["| Model B | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 |",
                       "| Model A | 1.00 | 0.50 | 1.00 | 0.50 | 1.00 | 0.50 |"]  # fmt: skip
    assert "| Model A | 0.50 | 0.25 |" not in md and "| Model A | 1.00 | 0.25 |" in md  # OOD: ASR halved
    assert "| Model B | 17.5 | 4.0 | 2.0 | 30.0 |" in md  # cost: the mean of ID (20.0) and OOD (15.0)
    assert "| Model B | craft_item | 0.25 | 0.50 | 0.25 |" in md
    assert "absent" not in md and md.endswith("- B wins\n")
    with pytest.raises(KeyError):
        results_markdown(RESULTS, title="t", rows={"a": "A"}, categories=["kill_entity"], spaces=SPACES)


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    metrics = [{"stage": "sft", "iteration": i, "loss": 1.0 / (i + 1)} for i in range(3)]
    metrics += [{"stage": "rl", "iteration": i, "reward": i / 3} for i in range(3)]
    plot_curves(metrics, [("loss", "SFT loss"), ("reward", "reward")], tmp_path / "curves.png")
    plot_space_shares(RESULTS, models=["a", "b"], categories=["mine_block"], spaces=SPACES, path=tmp_path / "s.png")
    for name in ("curves.png", "s.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="panel"):
        plot_curves(metrics, [], tmp_path / "none.png")
    with pytest.raises(ValueError, match="evaluated model"):
        plot_space_shares(RESULTS, models=["zzz"], categories=["mine_block"], spaces=SPACES, path=tmp_path / "n.png")
    assert not (tmp_path / "none.png").exists() and not (tmp_path / "n.png").exists()
