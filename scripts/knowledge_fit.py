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
from trainer_module import load_trainer

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
    t = load_trainer()
    from actionspaces.training import open_run
    from actionspaces.training.updates import Demonstration

    facts = t.knowledge_facts(t.Config(**t.PRESETS["paper"]))
    rng = random.Random(0)
    probes = {kind: rng.sample([f for f in facts if f.kind == kind], 60) for kind in PROBES}
    demos = [Demonstration(f.prompt, f.answer) for f in facts]
    corpus = t.tokenizer_corpus([], facts)
    codebook = t.fit_codebook(t.record_episodes(range(1)), t.Config().codebook_size)  # saved with each checkpoint
    for hidden, layers, steps in shapes:
        started = time.perf_counter()
        cfg = t.Config(**{**t.PRESETS["paper"], "hidden_size": hidden, "layers": layers, "max_new_tokens": 64})
        root = open_run(out, f"{hidden}x{layers}x{steps}", cfg, resume=False, overwrite=False)
        run = t.training_run(root, cfg, codebook, torch.device("cpu"), False)
        untrained = t.tiny_policy(cfg, corpus, codebook, torch.device("cpu"))
        policy = t.sft(run, cfg, "knowledge", untrained, demos, steps)
        fit = {}
        for kind, chosen in probes.items():
            answers = t.sample(policy, [policy.prompt(f.prompt, None) for f in chosen], 0.0, cfg)
            fit[kind] = sum(policy.decode(ids).strip() == f.answer for ids, f in zip(answers, chosen, strict=True))
            fit[kind] /= len(chosen)
        line = {"hidden": hidden, "layers": layers, "steps": steps, "fit": fit,
                "wall_s": round(time.perf_counter() - started)}  # fmt: skip
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    typer.run(main)
