"""Reports of evaluated models: markdown tables of :func:`~actionspaces.evaluation.summarize` results, and plots.

``results`` maps each model's name to its summary (``"<split>/<category>"`` and ``"<split>/all"`` cells with
``FT``, ``ASR``, ``tokens_per_episode`` … and ``shares``). :func:`results_markdown` writes the paper's three
tables (FT/ASR per split and category, cost per episode, action-space shares per category) and a findings
list; :func:`plot_curves` draws metrics logged per iteration, :func:`plot_space_shares` the shares as
stacked bars. The plots need ``matplotlib`` (the ``examples`` extra); nothing here imports torch.

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

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["interval_markdown", "plot_curves", "plot_space_shares", "results_markdown"]

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
