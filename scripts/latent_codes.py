"""Does a trained model tell the latent codes apart? Their next-token probabilities after ``Latent:``.

    python scripts/latent_codes.py runs/pretrained/seed-0 mix crossha [--contexts 20]

Takes the run's D_mix calls labelled in the latent space (the expert's episodes of the run's seeds, as the
trainer built them), feeds each model its prompt and the label up to the code (teacher forcing), and
reports, averaged over the calls: the probability of all the codebook's tokens together, the probability
of the labelled code (chance is 1 / codebook size), how often the most likely token is a code, and how
often it is the labelled one. One JSON line per model on stdout.

A model that learnt the format but not the codes puts its mass on the codes evenly: the labelled one near
chance (docs/training.md, "Why STRL hurts").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def main(
    run: Annotated[Path, typer.Argument(help="a run directory with checkpoints (runs/<name>/seed-<s>)")],
    models: Annotated[list[str], typer.Argument(help="checkpoints under run/checkpoints (mix, strl, crossha, ...)")],
    contexts: Annotated[int, typer.Option(min=1, help="latent-labelled calls probed (the first of D_mix)")] = 20,
) -> None:
    checkpoints = [run / "checkpoints" / m / "config.json" for m in models]
    for need in (run / "config.json", run / "codebook.json", *checkpoints):
        if not need.is_file():
            raise typer.BadParameter(f"{need} is missing: is {run} a run with checkpoints {', '.join(models)}?")
    import torch

    from actionspaces.controllers import LatentCodebook
    from actionspaces.envs.craftworld.datasets import expert_contexts, record_episodes
    from actionspaces.training.pretrained import load_pretrained
    from actionspaces.training.recipe import CrossHAConfig

    cfg = CrossHAConfig.model_validate_json((run / "config.json").read_text())
    codebook = LatentCodebook.load(run / "codebook.json")
    d_mix = expert_contexts(record_episodes(range(cfg.expert_seeds)), codebook, "mixed")
    calls = [(c.prompt, c.labels["latent"]) for c, space in d_mix if space == "latent"][:contexts]
    if not calls:
        raise typer.BadParameter(f"{run}'s D_mix has no call labelled in the latent space")
    for model in models:
        policy = load_pretrained(run / "checkpoints" / model, extra_tokens=codebook.tokens)
        policy.model.eval()
        code_ids = policy.tokenizer.convert_tokens_to_ids(codebook.tokens)
        codes, is_code = torch.tensor(code_ids), set(code_ids)
        mass, label_p, top_code, top_label = [], [], 0, 0
        for prompt, label in calls:
            token = next(t for t in codebook.tokens if t in label)
            prefix = label[: label.index(token)]
            ids = policy.encode_prompts([policy.prompt(prompt)])[0].ids + policy.encode([prefix])[0]
            with torch.no_grad():
                probs = policy.model(torch.tensor([ids])).logits[0, -1].float().softmax(-1)
            label_id = policy.tokenizer.convert_tokens_to_ids(token)
            mass.append(float(probs[codes].sum()))
            label_p.append(float(probs[label_id]))
            top = int(probs.argmax())
            top_code += top in is_code
            top_label += top == label_id
        n = len(calls)
        print(json.dumps({"run": str(run), "model": model, "calls": n, "code_mass": round(sum(mass) / n, 3),
                          "labelled_code": round(sum(label_p) / n, 3), "chance": round(1 / len(codebook.tokens), 3),
                          "top_is_a_code": top_code, "top_is_the_label": top_label}))  # fmt: skip


if __name__ == "__main__":
    typer.run(main)
