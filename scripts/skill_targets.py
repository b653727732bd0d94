"""What does a trained model name when it answers a held-out task with a skill?

    python scripts/skill_targets.py runs/paper/seed-0 crossha [--calls 3]

Plays the first ``--calls`` calls of every held-out mine and kill task of the run's evaluation sample
(the OOD part of ``recipe.evaluation_tasks``, one seed, the evaluation's temperature) with the run's checkpoint, and
counts the ``Skill:`` calls by the target they name (``parse_skill``): the task's own target, a training
task's target, another name, or none. A model that generalises names the target in its observation's
``task:`` line; one that has memorised its 30 training tasks names one of theirs. One JSON line on stdout.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer


def main(
    run: Annotated[Path, typer.Argument(help="a finished run directory (runs/<name> or runs/<name>/seed-<s>)")],
    model: Annotated[str, typer.Argument(help="a checkpoint under run/checkpoints (crossha, nobase_crossha, ...)")],
    calls: Annotated[int, typer.Option(min=1, help="calls played per episode")] = 3,
) -> None:
    checkpoint = run / "checkpoints" / model
    for need in (run / "config.json", run / "codebook.json", checkpoint / "config.json"):
        if not need.is_file():
            raise typer.BadParameter(f"{need} is missing: is {run} a finished run with a {model!r} checkpoint?")
    from actionspaces.controllers import LatentCodebook
    from actionspaces.envs.craftworld import parse_skill, tasks
    from actionspaces.training.pretrained import load_pretrained
    from actionspaces.training.recipe import EVAL_SEED, CrossHAConfig, craftworld_env, evaluation_tasks
    from actionspaces.training.rollouts import play_policy
    from actionspaces.training.stages import seed_iteration

    cfg = CrossHAConfig.model_validate_json((run / "config.json").read_text()).model_copy(update={"max_calls": calls})
    codebook = LatentCodebook.load(run / "codebook.json")
    policy = load_pretrained(checkpoint, extra_tokens=codebook.tokens)
    trained = {task.target for task in tasks("train")}
    held_out = [t.id for t in evaluation_tasks(cfg.eval_held_out) if t.split != "train" and t.category != "craft_item"]

    named: Counter[str] = Counter()
    seed_iteration(cfg.seed, "skill_targets", 0)  # sampling is at the evaluation's temperature: seed it
    jobs = [(task, EVAL_SEED) for task in held_out]
    episodes = play_policy(policy, jobs, craftworld_env(cfg, codebook), temperature=cfg.eval_temperature,
                           max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch)  # fmt: skip
    for episode in episodes:
        target = episode.task.split(":", 1)[1]
        for turn in episode.turns:
            if not turn.text.startswith("Skill:"):
                named["not a skill"] += 1
                continue
            parsed = parse_skill(turn.text.removeprefix("Skill:").strip())
            name = parsed[1] if parsed else None
            if name is None:
                named["no name"] += 1
            else:
                named[
                    "its own target" if name == target else "a training target" if name in trained else "another name"
                ] += 1
    print(json.dumps({"run": str(run), "model": model, "episodes": len(held_out), "calls": dict(named)}))


if __name__ == "__main__":
    typer.run(main)
