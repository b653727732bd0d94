"""Error bars for evaluation results: a bootstrap over tasks and seeds, and claims judged by its intervals.

A cell of a results table (an ASR, tokens per episode, a space's share of calls) is a ratio of sums over
episodes: successes over episodes, tokens over episodes, calls in a space over calls. :func:`task_sums`
collects those sums per (training seed, task) from the per-episode records that
:func:`actionspaces.evaluation.episode_records` writes; :func:`bootstrap_interval` resamples seeds and tasks
with replacement (independently: a crossed two-level bootstrap) and reports the ratio's percentile
interval. Given a ``baseline`` of the same shape it reports the paired difference, resampling the same
seeds and tasks for both, which is what a claim "A beats B" needs; :meth:`Interval.verdict` reads that
interval as supported, not supported or inconclusive.

Examples:
    >>> import numpy as np
    >>> wins = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0]])  # 2 seeds x 4 tasks, one episode each
    >>> iv = bootstrap_interval(wins)
    >>> iv.mean, iv.low <= iv.mean <= iv.high
    (0.625, True)
    >>> bootstrap_interval(wins, baseline=(np.zeros_like(wins), None)).verdict()
    'supported'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Interval", "Verdict", "bootstrap_interval", "task_sums"]

Verdict = Literal["supported", "not supported", "inconclusive"]


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap interval at ``level`` (0.95: the 2.5th to 97.5th percentile)."""

    mean: float
    low: float
    high: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def verdict(self) -> Verdict:
        """For a difference "A minus B" under the claim A > B: above zero, below zero, or straddling it.

        Examples:
            >>> Interval(0.2, 0.05, 0.3).verdict(), Interval(-0.1, -0.2, -0.01).verdict()
            ('supported', 'not supported')
            >>> Interval(0.1, -0.05, 0.2).verdict()
            'inconclusive'
        """
        if self.low > 0:
            return "supported"
        if self.high < 0:
            return "not supported"
        return "inconclusive"


def _table(values: ArrayLike, what: str) -> NDArray[np.float64]:
    table = np.asarray(values, dtype=np.float64)
    if table.ndim != 2 or 0 in table.shape:
        raise ValueError(f"{what} must be a non-empty (seeds, tasks) table, got shape {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError(f"{what} holds {int((~np.isfinite(table)).sum())} NaN or infinite entries")
    return table


def _ratio_parts(num: ArrayLike, den: ArrayLike | None, what: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    numerator = _table(num, f"{what} numerator")
    denominator = np.ones_like(numerator) if den is None else _table(den, f"{what} denominator")
    if denominator.shape != numerator.shape:
        raise ValueError(f"{what}: numerator {numerator.shape} and denominator {denominator.shape} differ in shape")
    if (denominator < 0).any() or denominator.sum() <= 0:
        raise ValueError(f"{what}: the denominator must be non-negative with a positive total")
    return numerator, denominator


def bootstrap_interval(
    num: ArrayLike,
    den: ArrayLike | None = None,
    *,
    baseline: tuple[ArrayLike, ArrayLike | None] | None = None,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """``sum(num) / sum(den)`` over (seed, task) cells, and its interval from resampling seeds and tasks.

    Args:
        num: a ``(seeds, tasks)`` table of sums (successes, tokens, calls in a space).
        den: the matching table of what they are divided by (episodes, calls); ones by default.
        baseline: ``(num, den)`` of the same shape: the interval is then of the difference, paired (both
            read the same resampled seeds and tasks).
        resamples: bootstrap resamples.
        level: the interval's coverage, in (0, 1).
        seed: the resampling's seed (the interval is a pure function of the arguments).

    Raises:
        ValueError: a table is empty, not 2-D, holds NaN, or the shapes differ; a denominator is negative
            or sums to zero; ``resamples`` < 1 or ``level`` outside (0, 1).
    """
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    parts = [_ratio_parts(num, den, "values")]
    if baseline is not None:
        parts.append(_ratio_parts(*baseline, "baseline"))
        if parts[1][0].shape != parts[0][0].shape:
            raise ValueError(f"values {parts[0][0].shape} and baseline {parts[1][0].shape} differ in shape")
    seeds, n_tasks = parts[0][0].shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, seeds, size=(resamples, seeds))[:, :, None]
    cols = rng.integers(0, n_tasks, size=(resamples, n_tasks))[:, None, :]

    def ratio(n: NDArray[np.float64], d: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        drawn = d[rows, cols].sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(n.sum() / d.sum()), np.where(drawn > 0, n[rows, cols].sum(axis=(1, 2)) / drawn, np.nan)

    point, draws = ratio(*parts[0])
    if baseline is not None:
        base_point, base_draws = ratio(*parts[1])
        point, draws = point - base_point, draws - base_draws
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:  # every resample drew only zero denominators
        return Interval(point, float("nan"), float("nan"), level)
    low, high = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)])
    return Interval(point, float(low), float(high), level)


def task_sums(
    runs: Sequence[Sequence[Mapping[str, Any]]],
    tasks: Sequence[str],
    value: Callable[[Mapping[str, Any]], float],
    per: Callable[[Mapping[str, Any]], float] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(num, den)`` tables of ``value`` and ``per`` summed over each (run, task)'s episode records.

    Args:
        runs: one list of episode records per training seed (``episode_records``' output).
        tasks: the tasks (columns), in order; every run must have played each at least once.
        value: what a record adds to the numerator (``lambda r: r["success"]``).
        per: what it adds to the denominator (1 per episode by default).

    Raises:
        ValueError: a run played none of a task's episodes.

    Examples:
        >>> runs = [[{"task": "a", "success": 1.0}, {"task": "b", "success": 0.0}]]
        >>> num, den = task_sums(runs, ["a", "b"], lambda r: r["success"])
        >>> num.tolist(), den.tolist()
        ([[1.0, 0.0]], [[1.0, 1.0]])
    """
    column = {task: j for j, task in enumerate(tasks)}
    num = np.zeros((len(runs), len(tasks)))
    den = np.zeros((len(runs), len(tasks)))
    played = np.zeros((len(runs), len(tasks)), dtype=bool)
    for i, records in enumerate(runs):
        for record in records:
            j = column.get(record["task"])
            if j is None:
                continue
            num[i, j] += value(record)
            den[i, j] += 1.0 if per is None else per(record)
            played[i, j] = True
    if not played.all():
        i, j = np.argwhere(~played)[0]
        raise ValueError(f"run {i} has no episode of task {tasks[j]!r}")
    return num, den
