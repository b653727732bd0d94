"""Where a run's wall time went, stage by stage, from its ``timings.jsonl``.

    python scripts/stage_times.py runs/pretrained/seed-0

One markdown table on stdout (``actionspaces.reporting.timings_markdown``): each stage's iterations and
minutes (steps, checkpoint saves, computed datasets, evaluations) in the order they ran, and the total.
Reads the log only: it runs beside a training run without disturbing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def main(run: Annotated[Path, typer.Argument(help="a run directory: runs/<name> or runs/<name>/seed-<s>")]) -> None:
    from actionspaces.reporting import timings_markdown
    from actionspaces.training.rundir import RunFileError, read_jsonl, refuse_links

    path = run / "timings.jsonl"
    try:
        records = read_jsonl(refuse_links(path))
    except RunFileError as err:
        raise typer.BadParameter(str(err)) from None
    if not records:
        raise typer.BadParameter(f"{path} is missing or empty: is {run} a run of examples/crossha_train.py?")
    try:
        print(timings_markdown(records))
    except ValueError as err:
        raise typer.BadParameter(f"{path}: {err}") from None


if __name__ == "__main__":
    typer.run(main)
