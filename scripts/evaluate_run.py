"""Evaluate a finished run's checkpoints again, under other controllers.

    python scripts/evaluate_run.py runs/pretrained/seed-0 --controllers agent [--model crossha --model mix]

Reads the run's ``config.json`` and ``codebook.json``, changes ``controllers`` and nothing else, and
evaluates each model as the trainer does (``recipe.evaluate``: the same tasks, env seeds and sampling
seed), so a row differs from the run's own only by who executes the calls. With ``--controllers agent``
grounding runs through the library's non-privileged ``GroundingController`` instead of CraftWorld's
oracle: what the oracle flattered at test time. Each result is kept in ``RUN/eval-<controllers>/<model>.json``
(a killed evaluation resumes at the model in flight); one JSON line per model on stdout.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated

import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")


MODEL_HELP = "a checkpoint to evaluate (repeatable; default: the run's evaluated ones)"


def main(
    run: Annotated[Path, typer.Argument(help="a run directory: runs/<name> or runs/<name>/seed-<s>")],
    controllers: Annotated[str, typer.Option(help="who executes the calls: 'oracle' or 'agent'")] = "agent",
    model: Annotated[list[str] | None, typer.Option(help=MODEL_HELP)] = None,
) -> None:
    from actionspaces.controllers import LatentCodebook
    from actionspaces.reporting import CROSSHA_MODELS
    from actionspaces.training.pretrained import load_pretrained
    from actionspaces.training.recipe import CrossHAConfig, craftworld_env, evaluate
    from actionspaces.training.rundir import RUN_NAME_PATTERN, refuse_links
    from actionspaces.training.stages import TrainingRun

    if controllers not in ("oracle", "agent"):
        raise typer.BadParameter(f"--controllers is 'oracle' or 'agent', got {controllers!r}")
    run = refuse_links(run)
    for need in (run / "config.json", run / "codebook.json"):
        if not need.is_file():
            raise typer.BadParameter(f"{need} is missing: is {run} a run of examples/crossha_train.py?")
    cfg = CrossHAConfig.model_validate_json((run / "config.json").read_text()).model_copy(
        update={"controllers": controllers}
    )
    models = model or [m for m in (cfg.eval_models or CROSSHA_MODELS) if (run / "checkpoints" / m).is_dir()]
    for name in models:
        if not re.fullmatch(RUN_NAME_PATTERN, name) or not (run / "checkpoints" / name / "config.json").is_file():
            raise typer.BadParameter(f"{run / 'checkpoints' / name} is not a checkpoint of the run")
    codebook = LatentCodebook.load(run / "codebook.json")
    stored = TrainingRun(run, load=lambda path: load_pretrained(path, extra_tokens=codebook.tokens, vision=cfg.vision))
    make_env = craftworld_env(cfg, codebook)
    for name in models:
        evaluated = stored.cached(f"eval-{controllers}", name, lambda name=name: evaluate(
            stored.load(run / "checkpoints" / name), cfg, make_env, name=name))  # fmt: skip
        row = {
            split: {k: evaluated[f"{split}/all"][k] for k in ("ASR", "tokens_per_episode")} for split in ("ID", "OOD")
        }
        print(json.dumps({"run": str(run), "controllers": controllers, "model": name, **row}), flush=True)


if __name__ == "__main__":
    typer.run(main)
