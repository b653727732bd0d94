"""Bootstrap intervals over tasks and seeds, and claims read from them."""

from __future__ import annotations

import numpy as np
import pytest

from actionspaces.statistics import Interval, bootstrap_interval, task_sums


def test_the_interval_holds_the_mean_and_narrows_with_more_tasks() -> None:
    rng = np.random.default_rng(0)
    few = (rng.random((3, 10)) < 0.4).astype(float)
    many = (rng.random((3, 400)) < 0.4).astype(float)
    a, b = bootstrap_interval(few), bootstrap_interval(many)
    assert a.low <= a.mean <= a.high and b.low <= b.mean <= b.high
    assert (b.high - b.low) < 0.5 * (a.high - a.low)
    assert abs(b.mean - 0.4) < 0.05 and b.low < 0.4 < b.high


def test_seed_to_seed_variation_widens_the_interval() -> None:
    tasks = np.tile((np.arange(50) % 2).astype(float), (3, 1))  # the same outcomes in every seed
    shifted = tasks.copy()
    shifted[0] = 1.0  # one seed solves everything
    steady, varied = bootstrap_interval(tasks), bootstrap_interval(shifted)
    assert (varied.high - varied.low) > (steady.high - steady.low)


def test_a_constant_table_has_no_width_and_a_ratio_weighs_its_denominator() -> None:
    assert bootstrap_interval(np.full((2, 5), 0.5)) == Interval(0.5, 0.5, 0.5)
    num, den = np.array([[3.0, 0.0]]), np.array([[4.0, 1.0]])
    assert bootstrap_interval(num, den).mean == pytest.approx(0.6)


def test_a_paired_difference_reads_the_same_resamples_for_both() -> None:
    rng = np.random.default_rng(1)
    base = (rng.random((3, 60)) < 0.5).astype(float)
    better = np.maximum(base, (rng.random((3, 60)) < 0.3).astype(float))  # never worse, often better
    diff = bootstrap_interval(better, baseline=(base, None))
    assert diff.verdict() == "supported" and diff.low > 0
    assert bootstrap_interval(base, baseline=(better, None)).verdict() == "not supported"
    assert bootstrap_interval(base, baseline=(base, None)) == Interval(0.0, 0.0, 0.0)
    noisy = (rng.random((3, 60)) < 0.5).astype(float)
    assert bootstrap_interval(noisy, baseline=(base, None)).verdict() == "inconclusive"


def test_the_interval_is_reproducible_and_its_level_matters() -> None:
    table = (np.random.default_rng(2).random((3, 30)) < 0.5).astype(float)
    assert bootstrap_interval(table, seed=7) == bootstrap_interval(table, seed=7)
    narrow, wide = bootstrap_interval(table, level=0.5), bootstrap_interval(table, level=0.99)
    assert wide.low < narrow.low and narrow.high < wide.high


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num": [[np.nan, 1.0]]}, "NaN"),
        ({"num": [1.0, 0.0]}, "seeds, tasks"),
        ({"num": np.zeros((0, 3))}, "non-empty"),
        ({"num": [[1.0, 0.0]], "den": [[1.0]]}, "differ in shape"),
        ({"num": [[1.0, 0.0]], "den": [[0.0, 0.0]]}, "positive total"),
        ({"num": [[1.0, 0.0]], "baseline": ([[1.0]], None)}, "differ in shape"),
        ({"num": [[1.0]], "level": 1.0}, "level"),
        ({"num": [[1.0]], "resamples": 0}, "resamples"),
    ],
)
def test_bad_tables_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(**kwargs)


def test_task_sums_tabulate_each_seed_and_task_and_name_a_missing_one() -> None:
    runs = [
        [{"task": "a", "success": 1.0, "calls": 2}, {"task": "a", "success": 0.0, "calls": 4}, {"task": "b", "success": 1.0, "calls": 1}],
        [{"task": "a", "success": 0.0, "calls": 3}, {"task": "b", "success": 1.0, "calls": 1}, {"task": "z", "success": 1.0, "calls": 1}],
    ]  # fmt: skip
    num, den = task_sums(runs, ["a", "b"], lambda r: r["success"])
    assert num.tolist() == [[1.0, 1.0], [0.0, 1.0]] and den.tolist() == [[2.0, 1.0], [1.0, 1.0]]
    _, calls = task_sums(runs, ["a", "b"], lambda r: r["success"], lambda r: r["calls"])
    assert calls.tolist() == [[6.0, 1.0], [3.0, 1.0]]
    with pytest.raises(ValueError, match="run 0 has no episode of task 'z'"):
        task_sums(runs, ["a", "z"], lambda r: r["success"])
