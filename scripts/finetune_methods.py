"""Which parameter-efficient fine-tuning fits two CPU cores: the top layers, or LoRA through peft?

The same pretrained model is fine-tuned on the same CraftWorld expert answers (every space the expert's
step can be said in) for the same wall-clock budget, once per method, and each is then scored on
answers from held-out episodes (mean NLL per response token). Reported per method: trainable
parameters, seconds per step (batch of 8), steps done, and the held-out NLL before and after.

    pip install peft   # LoRA only; not a dependency of the library
    python scripts/finetune_methods.py [--seconds 150] [--methods top4,top8,lora8] [--out finetune_methods.json]

Run it alone: each method is a fine-tuning of a 135M model for ``--seconds``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer

from actionspaces.controllers import LatentCodebook
from actionspaces.envs.craftworld import label_step
from actionspaces.envs.craftworld.datasets import fit_codebook, record_episodes
from actionspaces.training import set_torch_threads
from actionspaces.training.policy import Policy, response_logprobs, train_top_layers
from actionspaces.training.pretrained import load_pretrained

app = typer.Typer(add_completion=False)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def answers() -> tuple[list[tuple[str, str]], list[tuple[str, str]], LatentCodebook]:
    """(observation, answer) pairs in every space the step can be said in: 4 of 5 tasks train, 1 of 5 held out."""
    episodes = record_episodes([0])  # every training task, from seed 0
    codebook = fit_codebook(episodes, 32)
    train, held = [], []
    for k, (_, steps) in enumerate(episodes):
        for t in range(0, len(steps), 4):
            for label in label_step(steps, t, codebook).values():
                (held if k % 5 == 0 else train).append((steps[t].env.text(), label.text))
    picked = np.random.default_rng(0).choice(len(held), size=min(48, len(held)), replace=False)
    return train, [held[i] for i in sorted(picked)], codebook


def encoded(policy: Policy, pairs: list[tuple[str, str]]) -> tuple[list, list[list[int]]]:
    prompts = policy.encode_prompts([policy.prompt(obs) for obs, _ in pairs])
    return prompts, [[*r, policy.tokenizer.eos_token_id] for r in policy.encode([a for _, a in pairs])]


def held_out_nll(policy: Policy, held: list[tuple[str, str]]) -> float:
    """Mean NLL per response token (EOS included) over ``held``, in batches of 8."""
    prompts, responses = encoded(policy, held)
    policy.model.eval()
    total = count = 0.0
    with torch.no_grad():
        for start in range(0, len(held), 8):
            logp, mask = response_logprobs(policy, prompts[start : start + 8], responses[start : start + 8])
            total -= float((logp * mask).sum())
            count += float(mask.sum())
    return total / count


def prepare(policy: Policy, method: str) -> tuple[Policy, float]:
    """``policy`` set up for ``method`` (``topN`` or ``loraR``) and the learning rate it trains at."""
    if method.startswith("top"):
        return train_top_layers(policy, int(method[3:])), 1e-4
    if method.startswith("lora"):
        from peft import LoraConfig, get_peft_model

        rank = int(method[4:])
        config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=LORA_TARGETS)
        return Policy(get_peft_model(policy.model, config), policy.tokenizer, policy.device), 5e-4
    raise typer.BadParameter(f"unknown method {method!r}: topN or loraR")


@app.command()
def main(
    model: Annotated[str, typer.Option(help="a pretrained name or a checkpoint path")] = "smollm2-135m-instruct",
    seconds: Annotated[float, typer.Option(min=1, help="training wall-clock budget per method")] = 150.0,
    methods: Annotated[str, typer.Option(help="comma-separated: topN (top N layers) or loraR (rank R)")] = (
        "top4,top8,lora8"
    ),
    batch: Annotated[int, typer.Option(min=1)] = 8,
    out: Annotated[Path, typer.Option(help="where the results are written (JSON)")] = Path("finetune_methods.json"),
) -> None:
    set_torch_threads(None)
    train, held, codebook = answers()
    latent = codebook.tokens
    typer.echo(f"{len(train)} training answers, {len(held)} held-out answers")
    results = {}
    for method in methods.split(","):
        torch.manual_seed(0)
        policy, lr = prepare(load_pretrained(model, extra_tokens=latent), method)
        trainable = policy.trainable_parameters()
        optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
        before = held_out_nll(policy, held)
        prompts, responses = encoded(policy, train)
        rng = np.random.default_rng(0)
        steps, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            policy.model.train()
            drawn = rng.integers(len(train), size=batch)
            logp, mask = response_logprobs(policy, [prompts[i] for i in drawn], [responses[i] for i in drawn])
            loss = -(logp * mask).sum() / mask.sum()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            steps += 1
        elapsed = time.perf_counter() - started
        results[method] = {"trainable": sum(p.numel() for p in trainable), "lr": lr, "steps": steps,
                           "seconds_per_step": elapsed / steps, "nll_before": before,
                           "nll_after": held_out_nll(policy, held)}  # fmt: skip
        typer.echo(f"{method}: {json.dumps(results[method])}")
    out.write_text(json.dumps({"model": model, "seconds": seconds, "batch": batch, "methods": results}, indent=1))
    typer.echo(f"{'method':<8} {'trainable':>11} {'s/step':>7} {'steps':>6} {'NLL before':>11} {'NLL after':>10}")
    for method, r in results.items():
        typer.echo(f"{method:<8} {r['trainable']:>11,} {r['seconds_per_step']:>7.2f} {r['steps']:>6} "
                   f"{r['nll_before']:>11.3f} {r['nll_after']:>10.3f}")  # fmt: skip


if __name__ == "__main__":
    app()
