"""Does M_base learn its corpus? Knowledge SFT for a model size and step count, then exact-match fit per kind.

    python scripts/knowledge_fit.py 64x2x300 64x2x1200 128x2x1200   (hidden x layers x knowledge SFT steps)

Each configuration trains the reference trainer's tiny Qwen2 (the paper preset's other settings, its
tokenizer trained on the knowledge corpus) on ``knowledge_corpus()`` as stage 0 does, then answers 60
facts of each kind greedily and counts the answers equal to the corpus's. The facts are from the corpus
itself: this measures whether stage 0 *fits* its data, the precondition for any knowledge to carry over
to held-out tasks. One JSON line per configuration on stdout; runs land in ``--out`` (default
``runs/knowledge-fit``), one directory per configuration, and an existing one is refused.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Annotated

import torch
import typer

ROOT = Path(__file__).resolve().parents[1]
PROBES = ("name", "locate", "tool", "drops", "recipe")


def _shape(text: str) -> tuple[int, int, int]:
    try:
        hidden, layers, steps = (int(part) for part in text.split("x"))
    except ValueError:
        raise typer.BadParameter(f"a configuration is HIDDENxLAYERSxSTEPS (64x2x300), got {text!r}") from None
    if min(hidden, layers, steps) < 1:
        raise typer.BadParameter(f"every part of {text!r} must be positive")
    return hidden, layers, steps


def main(
    configurations: Annotated[list[str], typer.Argument(help="HIDDENxLAYERSxSTEPS, e.g. 64x2x300")],
    out: Annotated[Path, typer.Option(help="where the runs are written")] = ROOT / "runs" / "knowledge-fit",
    threads: Annotated[int, typer.Option(min=1, help="torch threads")] = 2,
) -> None:
    shapes = [_shape(c) for c in configurations]
    for hidden, layers, steps in shapes:
        if (out / f"{hidden}x{layers}x{steps}").exists():
            raise typer.BadParameter(f"{out / f'{hidden}x{layers}x{steps}'} exists; choose another --out")
    torch.set_num_threads(threads)
    from actionspaces.envs.craftworld import knowledge_corpus
    from actionspaces.envs.craftworld.datasets import fit_codebook, record_episodes, tokenizer_corpus
    from actionspaces.training import open_run
    from actionspaces.training.policy import load_policy
    from actionspaces.training.recipe import preset_config, sft_stage, tiny_policy
    from actionspaces.training.stages import TrainingRun
    from actionspaces.training.updates import Demonstration

    paper = preset_config("paper")
    facts = knowledge_corpus(views=paper.knowledge_views, seed=0)
    rng = random.Random(0)
    probes = {kind: rng.sample([f for f in facts if f.kind == kind], 60) for kind in PROBES}
    demos = [Demonstration(f.prompt, f.answer) for f in facts]
    corpus = tokenizer_corpus([], facts)
    codebook = fit_codebook(record_episodes(range(1)), paper.codebook_size)  # its codes are in every vocabulary
    for hidden, layers, steps in shapes:
        started = time.perf_counter()
        cfg = paper.model_copy(update={"hidden_size": hidden, "layers": layers, "max_new_tokens": 64})
        root = open_run(out, f"{hidden}x{layers}x{steps}", cfg, resume=False, overwrite=False)
        run = TrainingRun(root, load=load_policy)
        untrained = tiny_policy(cfg, corpus, extra_tokens=codebook.tokens)
        policy = sft_stage(run, cfg, "knowledge", untrained, demos, steps=steps)
        fit = {}
        for kind, chosen in probes.items():
            prompts = [policy.prompt(f.prompt, None) for f in chosen]
            answers = policy.sample(prompts, 0.0, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch)
            fit[kind] = sum(policy.decode(ids).strip() == f.answer for ids, f in zip(answers, chosen, strict=True))
            fit[kind] /= len(chosen)
        line = {"hidden": hidden, "layers": layers, "steps": steps, "fit": fit,
                "wall_s": round(time.perf_counter() - started)}  # fmt: skip
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    typer.run(main)
