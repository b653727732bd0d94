"""Reports of evaluated models: tables, plots, the paper's claims judged by intervals, and a run's report files.

``results`` maps each model's name to its summary (``"<split>/<category>"`` and ``"<split>/all"`` cells with
``FT``, ``ASR``, ``tokens_per_episode`` … and ``shares``; with ``"episodes"``, the per-episode records of
:func:`~actionspaces.evaluation.episode_records`). :func:`results_markdown` writes the paper's three
tables (FT/ASR per split and category, cost per episode, action-space shares per category) and a findings
list; :func:`plot_curves` draws metrics logged per iteration, :func:`plot_space_shares` the shares as
stacked bars. :class:`Evaluations` holds one such evaluation per seed and gives any cell as a mean with
its bootstrap interval; :func:`findings` judges CrossHA's claims with them (the models named as in
:data:`CROSSHA_MODELS`); :func:`write_run_report` and :func:`write_sweep_report` write a run's
``results.*`` and a sweep's ``summary.*``. The plots need ``matplotlib`` (the ``examples`` extra); nothing
here imports torch.

Examples:
    >>> cell = {"FT": 1.0, "ASR": 0.5, "tokens_per_call": 4.0, "tokens_per_episode": 8.0,
    ...         "calls_per_episode": 2.0, "ticks_per_episode": 30.0, "shares": {"raw": 1.0, "none": 0.0}}
    >>> results = {"sft": {f"{s}/{c}": cell for s in ("ID", "OOD") for c in ("all", "mine_block")}}
    >>> md = results_markdown(results, title="demo", rows={"sft": "SFT"}, categories=["mine_block"],
    ...                       spaces=["raw", "none"], findings=["ASR is 0.5"])
    >>> print(md.splitlines()[7])
    | SFT | 1.00 | 0.50 | 1.00 | 0.50 |
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .evaluation import Episode, openha_layout
from .registry import text_order
from .statistics import Interval, bootstrap_interval, task_sums
from .training.rundir import RunFileError, read_json, refuse_links, write_atomic

__all__ = [
    "CROSSHA_MODELS",
    "Evaluations",
    "findings",
    "interval_markdown",
    "plot_curves",
    "plot_space_shares",
    "read_run_results",
    "results_markdown",
    "selection_finding",
    "timings_markdown",
    "write_run_report",
    "write_sweep_report",
]

Results = Mapping[str, Mapping[str, Any]]


def _mean_over(results: Results, model: str, key: str, splits: Sequence[str]) -> dict[str, float]:
    cells = [results[model][f"{s}/{key}"] for s in splits]
    return {k: float(np.mean([c[k] for c in cells])) for k in cells[0] if k != "shares"}


def results_markdown(
    results: Results,
    *,
    title: str,
    rows: Mapping[str, str],
    categories: Sequence[str],
    spaces: Sequence[str],
    splits: Sequence[str] = ("ID", "OOD"),
    share_models: Sequence[str] | None = None,
    findings: Sequence[str] = (),
) -> str:
    """The report of ``results`` as markdown: FT/ASR per split, cost per episode, space shares, findings.

    Args:
        results: model name -> its :func:`~actionspaces.evaluation.summarize` summary.
        title: the report's heading.
        rows: model name -> row label, in table order; models absent from ``results`` are skipped.
        categories: the category columns, in order.
        spaces: the share columns, in order.
        splits: the splits (one FT/ASR table each; cost and shares are their mean).
        share_models: the models whose shares are tabulated (every row's by default).
        findings: lines listed under "Findings (as measured)".

    Raises:
        KeyError: a listed model lacks a split, a category or a space.
    """
    models = [m for m in rows if m in results]
    md = [f"# {title}\n"]
    for split in splits:
        md.append(f"\n## {split} tasks: FT / ASR\n")
        md.append("| Model | All FT | All ASR | " + " | ".join(f"{c} FT | {c} ASR" for c in categories) + " |")
        md.append("|---" * (3 + 2 * len(categories)) + "|")
        for model in models:
            row = results[model]
            cells = [
                f"{row[f'{split}/{k}']['FT']:.2f} | {row[f'{split}/{k}']['ASR']:.2f}" for k in ("all", *categories)
            ]
            md.append(f"| {rows[model]} | " + " | ".join(cells) + " |")
    md.append(f"\n## Cost per episode (all tasks, mean of {', '.join(splits)})\n")
    md.append("| Model | tokens/episode | tokens/call | calls/episode | ticks/episode |")
    md.append("|---|---|---|---|---|")
    for model in models:
        mean = _mean_over(results, model, "all", splits)
        md.append(f"| {rows[model]} | {mean['tokens_per_episode']:.1f} | {mean['tokens_per_call']:.1f} | "
                  f"{mean['calls_per_episode']:.1f} | {mean['ticks_per_episode']:.1f} |")  # fmt: skip
    md.append(f"\n## Action-space shares of calls, per category (mean of {', '.join(splits)})\n")
    md.append("| Model | category | " + " | ".join(spaces) + " |")
    md.append("|---|---" + "|---" * len(spaces) + "|")
    for model in share_models if share_models is not None else models:
        if model not in results:
            continue
        for c in categories:
            shares = [results[model][f"{s}/{c}"]["shares"] for s in splits]
            md.append(f"| {rows[model]} | {c} | " + " | ".join(f"{np.mean([x[s] for x in shares]):.2f}" for s in spaces)
                      + " |")  # fmt: skip
    if findings:
        md.append("\n## Findings (as measured)\n")
        md += [f"- {line}" for line in findings]
    return "\n".join(md) + "\n"


def interval_markdown(
    cells: Mapping[str, Mapping[str, Any]],
    *,
    title: str,
    per_seed: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    findings: Sequence[str] = (),
) -> str:
    """A table of intervals (row -> column -> ``Interval``, printed ``mean [low, high]``), per-seed rows, findings.

    Args:
        cells: row label -> column label -> an :class:`~actionspaces.statistics.Interval` (or anything whose
            ``str`` is the cell).
        title: the report's heading.
        per_seed: row label -> seed -> column label -> the value that seed measured.
        findings: lines listed under "Findings (as measured)".

    Examples:
        >>> from actionspaces.statistics import Interval
        >>> md = interval_markdown({"CrossHA": {"OOD ASR": Interval(0.3, 0.2, 0.4)}}, title="demo",
        ...                        per_seed={"CrossHA": {"0": {"OOD ASR": 0.25}, "1": {"OOD ASR": 0.35}}})
        >>> print(md)
        # demo
        <BLANKLINE>
        Each cell: mean [95 % bootstrap interval over tasks and seeds].
        <BLANKLINE>
        | Model | OOD ASR |
        |---|---|
        | CrossHA | 0.300 [0.200, 0.400] |
        <BLANKLINE>
        ## Per seed
        <BLANKLINE>
        | Model | seed | OOD ASR |
        |---|---|---|
        | CrossHA | 0 | 0.250 |
        | CrossHA | 1 | 0.350 |
        <BLANKLINE>
    """
    if not cells:
        raise ValueError("interval_markdown needs at least one row")
    columns = list(next(iter(cells.values())))
    md = [f"# {title}\n", "Each cell: mean [95 % bootstrap interval over tasks and seeds].\n"]
    md.append("| Model | " + " | ".join(columns) + " |")
    md.append("|---" * (1 + len(columns)) + "|")
    md += [f"| {row} | " + " | ".join(str(values[c]) for c in columns) + " |" for row, values in cells.items()]
    if per_seed:
        md += ["\n## Per seed\n", "| Model | seed | " + " | ".join(columns) + " |", "|---" * (2 + len(columns)) + "|"]
        for row, seeds in per_seed.items():
            md += [f"| {row} | {seed} | " + " | ".join(f"{values[c]:.3f}" for c in columns) + " |"
                   for seed, values in seeds.items()]  # fmt: skip
    if findings:
        md.append("\n## Findings (as measured)\n")
        md += [f"- {line}" for line in findings]
    return "\n".join(md) + "\n"


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'actionspaces[examples]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(metrics: Sequence[Mapping[str, Any]], panels: Sequence[tuple[str, str]], path: str | Path) -> None:
    """One panel per ``(metric, title)``: that metric per iteration, a line for each stage that logs it.

    ``metrics`` are the lines a :class:`~actionspaces.training.TrainingRun` logs (``stage``, ``iteration``
    and the step's metrics); a stage logs a metric if its first line has it.

    Raises:
        ValueError: no panels.
    """
    if not panels:
        raise ValueError("plot_curves needs at least one (metric, title) panel")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for stage in dict.fromkeys(m["stage"] for m in metrics):
        lines = [m for m in metrics if m["stage"] == stage]
        for ax, (key, _) in zip(axes[0], panels, strict=True):
            if key in lines[0]:
                ax.plot([m["iteration"] + 1 for m in lines], [m[key] for m in lines], label=stage)
    for ax, (_, title) in zip(axes[0], panels, strict=True):
        ax.set_title(title)
        ax.set_xlabel("iteration")
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_space_shares(
    results: Results,
    *,
    models: Sequence[str],
    categories: Sequence[str],
    spaces: Sequence[str],
    path: str | Path,
    splits: Sequence[str] = ("ID", "OOD"),
) -> None:
    """Stacked bars of each model's share of calls per space, one panel per category (mean of ``splits``).

    Raises:
        ValueError: no models or no categories.
    """
    shown = [m for m in models if m in results]
    if not shown or not categories:
        raise ValueError("plot_space_shares needs at least one evaluated model and one category")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(categories), figsize=(5 * len(categories), 5), sharey=True, squeeze=False)
    for ax, category in zip(axes[0], categories, strict=True):
        bottom = np.zeros(len(shown))
        for space in spaces:
            share = np.array([np.mean([results[m][f"{s}/{category}"]["shares"][space] for s in splits])
                              for m in shown])  # fmt: skip
            ax.barh(shown, share, left=bottom, label=space)
            bottom += share
        ax.set_title(f"{category}: share of calls per space")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------------- the paper's claims
#: CrossHA's models as the reference trainer names its checkpoints, and their row labels in table order.
CROSSHA_MODELS: dict[str, str] = {
    "raw_sft": "Raw-only: SFT",
    "raw_mtrl": "Raw-only: SFT + MTRL",
    "grounding_sft": "Grounding-only: SFT",
    "grounding_mtrl": "Grounding-only: SFT + MTRL",
    "motion_sft": "Motion-only: SFT",
    "motion_mtrl": "Motion-only: SFT + MTRL",
    "nostrl_mtrl": "CrossHA w/o STRL (M_mix + MTRL)",
    "mix": "Stage 1: mixed SFT (M_mix)",
    "cs1": "Stage 2: rejection-sampled SFT (M_cs1)",
    "strl": "Stage 2: single-step GRPO (M_strl)",
    "cs2": "Stage 2: relabelled SFT (M_cs2)",
    "crossha": "Stage 3: MTRL = CrossHA (M_mtrl)",
    "nobase_crossha": "CrossHA w/o M_base (stages 1-3 from random weights)",
}


@dataclass(frozen=True)
class Evaluations:
    """The same evaluation over several runs (seeds): any cell as a mean and its 95 % bootstrap interval.

    Attributes:
        runs: one ``results`` per seed, each model's with its ``"episodes"`` records.
        splits: each evaluated task's split (``"ID"``, ``"OOD"``), in the order the tasks are listed.
        categories: each evaluated task's category.
        seed: seeds the bootstrap.
    """

    runs: Sequence[Results]
    splits: Mapping[str, str]
    categories: Mapping[str, str]
    seed: int = 0

    def tasks(self, split: str, category: str = "all") -> list[str]:
        """The tasks of ``split`` and ``category`` (``"all"``: every category), in the listed order."""
        return [t for t, s in self.splits.items() if s == split and category in ("all", self.categories[t])]

    def interval(
        self, model: str, metric: str, split: str, category: str = "all", baseline: str | None = None
    ) -> Interval:
        """A cell over every run and task, with its interval; with ``baseline``, the paired difference.

        ``metric`` is ``"ASR"``, ``"tokens_per_episode"`` or ``"share_<space>"`` (a space's share of calls).
        """
        names = self.tasks(split, category)
        models = [m for m in (model, baseline) if m]
        if metric.startswith("share_"):
            space = metric.removeprefix("share_")
            parts = {m: task_sums([r[m]["episodes"] for r in self.runs], names, lambda e: e["spaces"].get(space, 0),
                                  lambda e: e["calls"]) for m in models}  # fmt: skip
        else:
            key = {"ASR": "success", "tokens_per_episode": "tokens"}[metric]
            parts = {m: task_sums([r[m]["episodes"] for r in self.runs], names, lambda e: e[key]) for m in models}
        return bootstrap_interval(*parts[model], baseline=parts[baseline] if baseline else None, seed=self.seed)


def findings(evals: Evaluations, *, categories: Sequence[str], spaces: Sequence[str] | None = None) -> list[str]:
    """The paper's four claims (and the knowledge stage's part), each judged by a paired 95 % interval.

    A claim "A beats B" is supported when the interval of A - B (over tasks and seeds) lies above zero, not
    supported when it lies below, and inconclusive when it holds zero. Models are named as in
    :data:`CROSSHA_MODELS`; a claim whose models were not evaluated is left out (``crossha`` must be).
    """
    first = evals.runs[0]
    lines = []

    def judged(claim: str, diff: Interval, detail: str) -> str:
        return f"{claim}: {diff.verdict()} (difference {diff}; {detail})"

    baselines = [m for m in ("raw_mtrl", "grounding_mtrl", "motion_mtrl", "nostrl_mtrl") if m in first]
    if baselines:
        diffs = {m: evals.interval("crossha", "ASR", "OOD", baseline=m) for m in baselines}
        verdicts = {d.verdict() for d in diffs.values()}
        if "not supported" in verdicts:
            verdict = "not supported"  # some baseline is above CrossHA
        else:
            verdict = "supported" if verdicts == {"supported"} else "inconclusive"
        crossha = evals.interval("crossha", "ASR", "OOD")
        lines.append(f"CrossHA above every baseline in OOD ASR: {verdict} (CrossHA {crossha}; minus "
                     + ", ".join(f"{CROSSHA_MODELS[m]} {d}" for m, d in diffs.items()) + ")")  # fmt: skip
    if "nostrl_mtrl" in first:
        lines.append(judged("STRL raises OOD ASR", evals.interval("crossha", "ASR", "OOD", baseline="nostrl_mtrl"),
                            "CrossHA minus CrossHA w/o STRL"))  # fmt: skip
    if "cs2" in first:
        tokens = evals.interval("cs2", "tokens_per_episode", "ID", baseline="crossha")
        asr = evals.interval("crossha", "ASR", "ID", baseline="cs2")
        lines.append(judged("Token penalty lowers tokens per episode", tokens,
                            f"ID, M_cs2 minus CrossHA; ASR changes by {asr}"))  # fmt: skip
    lines.append(selection_finding(evals, categories=categories, spaces=spaces))
    if "nobase_crossha" in first:
        in_distribution = evals.interval("crossha", "ASR", "ID", baseline="nobase_crossha")
        lines.append(judged("The knowledge stage (M_base) raises OOD ASR",
                            evals.interval("crossha", "ASR", "OOD", baseline="nobase_crossha"),
                            f"CrossHA minus CrossHA w/o M_base; in ID ASR {in_distribution}"))  # fmt: skip
    return lines


def selection_finding(evals: Evaluations, *, categories: Sequence[str], spaces: Sequence[str] | None = None) -> str:
    """Whether CrossHA's most used space differs by category: two categories each prefer their own top space.

    Supported when some two categories have different top spaces and, in each, the lead of its top space over
    the other's has an interval above zero; not supported when one space leads every category that clearly.
    ``spaces`` are the registry's (in text order) by default.
    """
    names = list(spaces) if spaces is not None else list(text_order())
    shares = {c: {s: evals.interval("crossha", f"share_{s}", "ID", c).mean for s in names} for c in categories}
    top = {c: max(shares[c], key=shares[c].__getitem__) for c in categories}

    def lead(category: str, space: str, over: str) -> Interval:  # share(space) - share(over), paired
        records = [r["crossha"]["episodes"] for r in evals.runs]
        num, den = task_sums(records, evals.tasks("ID", category),
                             lambda e: e["spaces"].get(space, 0) - e["spaces"].get(over, 0),
                             lambda e: e["calls"])  # fmt: skip
        return bootstrap_interval(num, den, seed=evals.seed)

    detail = "most used space (ID): " + ", ".join(f"{c} {top[c]} {shares[c][top[c]]:.2f}" for c in categories)
    for a, b in ((a, b) for a in categories for b in categories if a < b and top[a] != top[b]):
        if lead(a, top[a], top[b]).low > 0 and lead(b, top[b], top[a]).low > 0:
            return f"Selection differs by category: supported ({detail}; each lead's interval above zero)"
    if len(set(top.values())) == 1:
        space = top[categories[0]]
        runner_up = {c: max((s for s in names if s != space), key=shares[c].__getitem__) for c in categories}
        if all(lead(c, space, runner_up[c]).low > 0 for c in categories):
            return f"Selection differs by category: not supported ({detail}; {space} leads every category)"
    return f"Selection differs by category: inconclusive ({detail}; the leads' intervals hold zero)"


# ------------------------------------------------------------------------------------------ report files
def write_run_report(
    root: Path,
    results: Results,
    *,
    title: str,
    facts: Sequence[str],
    categories: Sequence[str],
    spaces: Sequence[str],
    metrics: Sequence[Mapping[str, Any]] = (),
    panels: Sequence[tuple[str, str]] = (),
    share_models: Sequence[str] | None = None,
) -> None:
    """A run's ``results.json``, ``results_openha.json`` (the reference's per-task layout) and ``results.md``.

    With ``panels``, also ``curves.png`` (of ``metrics``) and ``spaces.png``. Every write refuses a link.
    """
    write_atomic(root / "results.json", json.dumps({"models": results, "findings": list(facts)}, indent=1))
    layout: dict[str, Any] = {}
    for model, r in results.items():
        played = [Episode(e["task"], e["seed"], success=e["success"]) for e in r["episodes"]]
        layout.update(openha_layout(played, model))
    write_atomic(root / "results_openha.json", json.dumps(layout, indent=1))
    md = results_markdown(results, title=title, rows=CROSSHA_MODELS, categories=categories, spaces=spaces,
                          share_models=share_models, findings=facts)  # fmt: skip
    write_atomic(root / "results.md", md)
    if panels:
        plot_curves(metrics, panels, refuse_links(root / "curves.png"))
        plot_space_shares(results, models=list(CROSSHA_MODELS), categories=categories, spaces=spaces,
                          path=refuse_links(root / "spaces.png"))  # fmt: skip


def read_run_results(root: Path) -> dict[str, Any]:
    """The evaluations (model -> results) in a finished run's ``results.json``, as :func:`write_run_report` wrote it.

    What a resumed sweep reads for a seed that already finished, so that seed needs neither its checkpoints
    nor any training again: three seeds can be completed on different machines from their ``results.json``.

    Examples:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = (root / "results.json").write_text('{"models": {"crossha": {"ID/all": {"ASR": 0.5}}}, "findings": []}')
        >>> read_run_results(root)["crossha"]["ID/all"]["ASR"]
        0.5

    Raises:
        RunFileError: ``results.json`` is missing, a link, corrupted, or not a run's results (the message
            names the file and what is wrong).
    """
    path = refuse_links(Path(root) / "results.json")
    stored = read_json(path)
    models = stored.get("models") if isinstance(stored, dict) else None
    if not isinstance(models, dict) or not all(isinstance(r, dict) for r in models.values()):
        raise RunFileError(f"{path} is not a run's results: expected {{'models': {{model: results}}, ...}}")
    return models


def timings_markdown(timings: Sequence[Mapping[str, Any]]) -> str:
    """Where a run's wall time went: a row per stage of its ``timings.jsonl`` records, in the order they ran.

    A row has the stage's iterations (distinct numbers: one a resumed run repeated counts once) and its
    minutes, every second logged included (steps, checkpoint saves, computed datasets and evaluations,
    repeats too: the time was spent); the last row is the total.

    Examples:
        >>> print(timings_markdown([{"stage": "mix", "iteration": 0, "step": 90.0, "save": 1.5},
        ...                         {"stage": "mix", "iteration": 1, "step": 88.5},
        ...                         {"stage": "eval/crossha", "iteration": 0, "compute": 300.0}]))
        | stage | iterations | minutes |
        |---|---:|---:|
        | mix | 2 | 3.0 |
        | eval/crossha | 1 | 5.0 |
        | all | | 8.0 |

    Raises:
        ValueError: a record has no stage name or iteration number, or a time that is not a finite
            non-negative number (the message gives the record's number and the record).
    """
    seconds: dict[str, float] = {}
    iterations: dict[str, set[int]] = {}
    for number, record in enumerate(timings, 1):
        stage, iteration = record.get("stage"), record.get("iteration")
        times = [v for k, v in record.items() if k not in ("stage", "iteration")]
        if not isinstance(stage, str) or type(iteration) is not int:
            raise ValueError(f"timing record {number} has no stage name or iteration number: {str(record)[:80]}")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < float("inf") for v in times):
            raise ValueError(f"timing record {number} has a time that is not a number of seconds: {str(record)[:80]}")
        seconds[stage] = seconds.get(stage, 0.0) + float(sum(times))
        iterations.setdefault(stage, set()).add(iteration)
    rows = [f"| {stage} | {len(iterations[stage])} | {total / 60:.1f} |" for stage, total in seconds.items()]
    return "\n".join(["| stage | iterations | minutes |", "|---|---:|---:|", *rows,
                      f"| all | | {sum(seconds.values()) / 60:.1f} |"])  # fmt: skip


#: A sweep summary's columns: (label, metric, split).
SWEEP_COLUMNS = (
    ("ID ASR", "ASR", "ID"),
    ("OOD ASR", "ASR", "OOD"),
    ("ID tokens/episode", "tokens_per_episode", "ID"),
    ("OOD tokens/episode", "tokens_per_episode", "OOD"),
)


def write_sweep_report(
    root: Path, evals: Evaluations, *, seeds: Sequence[int], facts: Sequence[str], title: str, wall_s: float
) -> None:
    """``summary.json`` and ``summary.md``: every cell as mean [95 % interval] over tasks and seeds, per-seed rows."""
    runs = evals.runs
    models = [m for m in CROSSHA_MODELS if m in runs[0]]
    cells = {m: {label: evals.interval(m, metric, split) for label, metric, split in SWEEP_COLUMNS} for m in models}
    per_seed = {m: {str(s): {label: r[m][f"{split}/all"][metric] for label, metric, split in SWEEP_COLUMNS}
                    for s, r in zip(seeds, runs, strict=True)} for m in models}  # fmt: skip
    summary = {
        "seeds": list(seeds),
        "wall_s": wall_s,
        "cells": {m: {k: asdict(v) for k, v in row.items()} for m, row in cells.items()},
        "per_seed": per_seed,
        "findings": list(facts),
    }
    write_atomic(root / "summary.json", json.dumps(summary, indent=1))
    md = interval_markdown({CROSSHA_MODELS[m]: row for m, row in cells.items()}, title=title,
                           per_seed={CROSSHA_MODELS[m]: rows for m, rows in per_seed.items()},
                           findings=facts)  # fmt: skip
    wall = f"\nWall time: {wall_s / 60:.1f} min for {len(seeds)} seeds (a resumed sweep counts only what it ran).\n"
    write_atomic(root / "summary.md", md + wall)
