"""Evaluate a finished run's checkpoints again, under other controllers.

    python scripts/evaluate_run.py runs/pretrained/seed-0 --controllers agent [--model crossha --model mix]
    python scripts/evaluate_run.py runs/pretrained --controllers agent --model crossha   # every seed, with intervals

Reads the run's ``config.json`` and ``codebook.json``, changes ``controllers`` and nothing else, and
evaluates each model as the trainer does (``recipe.evaluate``: the same tasks, env seeds and sampling
seed), so a row differs from the run's own only by who executes the calls. With ``--controllers agent``
grounding runs through the library's non-privileged ``GroundingController`` instead of CraftWorld's
oracle: what the oracle flattered at test time. Each result is kept in ``RUN/eval-<controllers>/<model>.json``
(a killed evaluation resumes at the model in flight); one JSON line per model on stdout.

Given a sweep (a directory of ``seed-<s>`` runs, as ``--seeds`` writes), it evaluates every seed's models and
writes ``summary-<controllers>.md`` and ``.json`` beside the sweep's ``summary.md``: each model's ID and
OOD ASR under the run's own controllers and under ``--controllers``, and their paired difference, as means
with 95 % bootstrap intervals over tasks and seeds; with ``crossha`` among the models, also CrossHA's paired
difference from each other model, both under ``--controllers``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")


MODEL_HELP = "a checkpoint to evaluate (repeatable; default: the run's evaluated ones)"
SEED_DIRECTORY = re.compile(r"seed-(\d+)")


def evaluate_seed(run: Path, controllers: str, models: list[str] | None) -> dict[str, Any]:
    """Each model of one run evaluated under ``controllers`` (model -> results), a JSON line per model printed."""
    from actionspaces.controllers import LatentCodebook
    from actionspaces.reporting import CROSSHA_MODELS
    from actionspaces.training.pretrained import load_pretrained
    from actionspaces.training.recipe import CrossHAConfig, craftworld_env, evaluate
    from actionspaces.training.rundir import RUN_NAME_PATTERN
    from actionspaces.training.stages import TrainingRun

    for need in (run / "config.json", run / "codebook.json"):
        if not need.is_file():
            raise typer.BadParameter(f"{need} is missing: is {run} a run of examples/crossha_train.py?")
    cfg = CrossHAConfig.model_validate_json((run / "config.json").read_text()).model_copy(
        update={"controllers": controllers}
    )
    names = models or [m for m in (cfg.eval_models or CROSSHA_MODELS) if (run / "checkpoints" / m).is_dir()]
    for name in names:
        if not re.fullmatch(RUN_NAME_PATTERN, name) or not (run / "checkpoints" / name / "config.json").is_file():
            raise typer.BadParameter(f"{run / 'checkpoints' / name} is not a checkpoint of the run")
    codebook = LatentCodebook.load(run / "codebook.json")
    stored = TrainingRun(run, load=lambda path: load_pretrained(path, extra_tokens=codebook.tokens, vision=cfg.vision))
    make_env = craftworld_env(cfg, codebook)
    evaluated = {}
    for name in names:
        evaluated[name] = stored.cached(f"eval-{controllers}", name, lambda name=name: evaluate(
            stored.load(run / "checkpoints" / name), cfg, make_env, name=name))  # fmt: skip
        row = {
            split: {k: evaluated[name][f"{split}/all"][k] for k in ("ASR", "tokens_per_episode")}
            for split in ("ID", "OOD")
        }
        print(json.dumps({"run": str(run), "controllers": controllers, "model": name, **row}), flush=True)
    return evaluated


def write_controllers_summary(sweep: Path, seeds: dict[int, Path], controllers: str, redone: dict[int, Any]) -> None:
    """``summary-<controllers>.md/.json``: each model's ASR under its run's controllers and ``controllers``, paired."""
    from actionspaces.reporting import CROSSHA_MODELS, interval_markdown, read_run_results
    from actionspaces.training.recipe import CrossHAConfig, evaluations
    from actionspaces.training.rundir import refuse_links, write_atomic

    cfg = CrossHAConfig.model_validate_json((next(iter(seeds.values())) / "config.json").read_text())
    models = list(next(iter(redone.values())))
    runs = []
    for seed, run in seeds.items():
        own = read_run_results(run)
        missing = [m for m in models if m not in own or m not in redone[seed]]
        if missing:
            raise typer.BadParameter(f"{run}: no evaluation of {missing} in results.json: is the seed finished?")
        runs.append({**{m: own[m] for m in models}, **{f"{m}@{controllers}": redone[seed][m] for m in models}})
    evals = evaluations(runs, cfg.eval_held_out, seed=cfg.seed)
    cells = {}
    for m in models:
        cells[CROSSHA_MODELS.get(m, m)] = {
            f"{split} ASR, {label}": evals.interval(name, "ASR", split, baseline=base)
            for split in ("ID", "OOD")
            for label, name, base in (
                (cfg.controllers, m, None),
                (controllers, f"{m}@{controllers}", None),
                (f"{controllers} minus {cfg.controllers}", f"{m}@{controllers}", m),
            )
        }
    title = f"{sweep.name}: ASR under the run's controllers ({cfg.controllers}) and under {controllers}"
    report = interval_markdown(cells, title=title)
    # the claim that matters under other controllers: is CrossHA still above each baseline?
    versus = {
        CROSSHA_MODELS.get(m, m): {
            f"{split} ASR, CrossHA minus this, {controllers}": evals.interval(
                f"crossha@{controllers}", "ASR", split, baseline=f"{m}@{controllers}"
            )
            for split in ("ID", "OOD")
        }
        for m in models
        if "crossha" in models and m != "crossha"
    }
    if versus:
        report += "\n" + interval_markdown(versus, title=f"CrossHA against each model, both under {controllers}")
    write_atomic(refuse_links(sweep / f"summary-{controllers}.md"), report)
    stored = {
        "seeds": list(seeds),
        "cells": {row: {k: asdict(v) for k, v in c.items()} for row, c in cells.items()},
        "versus_crossha": {row: {k: asdict(v) for k, v in c.items()} for row, c in versus.items()},
    }
    write_atomic(refuse_links(sweep / f"summary-{controllers}.json"), json.dumps(stored, indent=1))


def main(
    run: Annotated[Path, typer.Argument(help="a run directory (runs/<name>/seed-<s>) or a sweep (runs/<name>)")],
    controllers: Annotated[str, typer.Option(help="who executes the calls: 'oracle' or 'agent'")] = "agent",
    model: Annotated[list[str] | None, typer.Option(help=MODEL_HELP)] = None,
) -> None:
    from actionspaces.training.rundir import refuse_links

    if controllers not in ("oracle", "agent"):
        raise typer.BadParameter(f"--controllers is 'oracle' or 'agent', got {controllers!r}")
    run = refuse_links(run)
    seeds = dict(sorted((int(found.group(1)), path) for path in run.glob("seed-*")
                        if (found := SEED_DIRECTORY.fullmatch(path.name)) and path.is_dir()))  # fmt: skip
    if not seeds:
        evaluate_seed(run, controllers, model)
        return
    redone = {seed: evaluate_seed(refuse_links(path), controllers, model) for seed, path in seeds.items()}
    write_controllers_summary(run, seeds, controllers, redone)


if __name__ == "__main__":
    typer.run(main)
