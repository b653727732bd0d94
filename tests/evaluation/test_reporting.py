"""actionspaces.reporting: the markdown report and the plots of evaluated models."""

from __future__ import annotations

from pathlib import Path

import pytest

from actionspaces.reporting import (
    plot_curves,
    plot_space_shares,
    read_run_results,
    results_markdown,
    timings_markdown,
)
from actionspaces.training.rundir import RunFileError, RunLinkError

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


def test_a_finished_runs_results_are_read_back(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"models": {"crossha": {"ID/all": {"ASR": 0.25}}}, "findings": ["x"]}')
    assert read_run_results(tmp_path) == {"crossha": {"ID/all": {"ASR": 0.25}}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "is missing"),
        ('{"models": {"crossha": ', "truncated or corrupted"),
        ('{"models": [1, 2]}', "not a run's results"),
        ('{"models": {"crossha": 3}}', "not a run's results"),
        ("[]", "not a run's results"),
    ],
)
def test_bad_results_are_named(tmp_path: Path, text: str | None, message: str) -> None:
    if text is not None:
        (tmp_path / "results.json").write_text(text)
    with pytest.raises(RunFileError, match=message) as caught:
        read_run_results(tmp_path)
    assert "results.json" in str(caught.value)


def test_results_behind_a_link_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"models": {}}')
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").symlink_to(outside)
    with pytest.raises(RunLinkError):
        read_run_results(run)


def test_the_time_table_sums_each_stage_and_counts_a_repeated_iteration_once():
    table = timings_markdown([
        {"stage": "mix", "iteration": 0, "step": 30.0, "save": 6.0},
        {"stage": "strl", "iteration": 0, "step": 60.0},
        {"stage": "mix", "iteration": 0, "step": 30.0, "save": 6.0},  # run again after a kill: time spent twice
    ])  # fmt: skip
    assert table.splitlines()[2:] == ["| mix | 1 | 1.2 |", "| strl | 1 | 1.0 |", "| all | | 2.2 |"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"iteration": 0, "step": 1.0}, "no stage name"),
        ({"stage": "mix", "iteration": "0", "step": 1.0}, "no stage name or iteration number"),
        ({"stage": "mix", "iteration": 0, "step": float("nan")}, "not a number of seconds"),
        ({"stage": "mix", "iteration": 0, "step": -1.0}, "not a number of seconds"),
        ({"stage": "mix", "iteration": 0, "step": "fast"}, "not a number of seconds"),
    ],
)
def test_a_bad_timing_record_is_named(record: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"timing record 2 has .*{message}"):
        timings_markdown([{"stage": "mix", "iteration": 0, "step": 1.0}, record])
