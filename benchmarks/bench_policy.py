"""The library's policy on a pretrained model beside plain Hugging Face, in one run, as ratios.

Each row is measured on the same prompts (CraftWorld observations in the model's chat template) and the
same responses (the expert's answers), with the top ``--top-layers`` decoder layers trained
(``train_top_layers``); tokens/s counts every token of the batch (prompt and response):

* **scoring step, first sight** (an SFT step on examples not seen before): ``response_logprobs``, its
  loss and the backward pass, against a plain Hugging Face loss step (``model(input_ids, labels=...)``,
  prompt labels -100).
* **the same, passes of R** (``--rows-per-pass``): the step in length-sorted passes of at most R rows, their
  gradients summed, as ``sft_step(rows_per_pass=R)`` runs it.
* **scoring step, seen before** (SFT draws each example several times): the same with a
  ``FrozenPrefix`` that already holds the batch's bottom states, so only the top layers run.
* **GRPO scoring** (old, new and reference log-probs of one batch, and the backward pass): the library's
  three passes sharing one ``FrozenPrefix`` against three plain Hugging Face passes.
* **sampling**: ``actionspaces.training.policy.sample`` against ``model.generate`` with the same options;
  new tokens/s.

    python benchmarks/bench_policy.py [--model smollm2-135m-instruct] [--batch 8] [--repeats 5] [--top-layers 8]
    python benchmarks/bench_policy.py --model runs/quick/checkpoints/base --batch 32 --top-layers 0  # the tiny model

Run it alone: a 135M model fills both cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from actionspaces.envs.craftworld import label_step, record_expert
from actionspaces.envs.craftworld.tasks import tasks
from actionspaces.training import set_torch_threads
from actionspaces.training.policy import FrozenPrefix, Policy, response_logprobs, sample, train_top_layers
from actionspaces.training.pretrained import load_pretrained
from actionspaces.training.updates import sft_backward


def examples(n: int) -> list[tuple[str, str]]:
    """``n`` (observation, raw or motion answer) pairs from the expert on the training tasks."""
    pairs: list[tuple[str, str]] = []
    for task in tasks("train"):
        steps = record_expert(task, 0)
        for t in range(0, len(steps), 7):
            labels = label_step(steps, t)
            pairs.append((steps[t].env.text(), labels["motion" if t % 2 else "raw"].text))
            if len(pairs) == n:
                return pairs
    return pairs


def library_step(
    policy: Policy,
    batch: list[tuple[str, str]],
    optimizer: torch.optim.Optimizer,
    frozen: FrozenPrefix | None = None,
    rows_per_pass: int | None = None,
) -> int:
    """``sft_step``'s update on ``batch``: in length-sorted passes of ``rows_per_pass`` rows, gradients summed."""
    prompts = policy.encode_prompts([policy.prompt(o) for o, _ in batch])
    responses = [[*r, policy.tokenizer.eos_token_id] for r in policy.encode([a for _, a in batch])]
    optimizer.zero_grad()
    sft_backward(policy, prompts, responses, rows_per_pass=rows_per_pass, frozen=frozen)
    optimizer.step()
    return sum(len(p.ids) + len(r) for p, r in zip(prompts, responses, strict=True))


def library_grpo(policy: Policy, reference: Policy, batch: list[tuple[str, str]]) -> int:
    """Old and reference log-probs without gradients, new ones with: one ``FrozenPrefix`` for the three."""
    prompts = policy.encode_prompts([policy.prompt(o) for o, _ in batch])
    responses = [[*r, policy.tokenizer.eos_token_id] for r in policy.encode([a for _, a in batch])]
    frozen = FrozenPrefix()
    with torch.no_grad():
        old, _ = response_logprobs(policy, prompts, responses, frozen=frozen)
        ref, _ = response_logprobs(reference, prompts, responses, frozen=frozen)
    logp, mask = response_logprobs(policy, prompts, responses, frozen=frozen)
    ((logp - old).exp() * mask + (ref - logp) * mask).sum().backward()
    return sum(len(p.ids) + len(r) for p, r in zip(prompts, responses, strict=True))


def plain_grpo(policy: Policy, reference: Policy, batch: list[tuple[str, str]]) -> int:
    """The same three passes through plain Hugging Face calls (the whole model each time)."""
    ids, attention, _ = plain_batch(policy, batch)
    with torch.no_grad():
        old = policy.model(input_ids=ids, attention_mask=attention).logits.log_softmax(-1)
        ref = reference.model(input_ids=ids, attention_mask=attention).logits.log_softmax(-1)
    logp = policy.model(input_ids=ids, attention_mask=attention).logits.log_softmax(-1)
    ((logp - old).exp().mean() + (ref - logp).mean()).backward()
    return int(attention.sum())


def plain_batch(policy: Policy, batch: list[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Input ids, attention mask and labels (prompt -100) of ``batch``, right-padded, as a plain loop builds them."""
    tok = policy.tokenizer
    prompts = [tok(policy.prompt(o).text, add_special_tokens=False)["input_ids"] for o, _ in batch]
    answers = [[*tok(a, add_special_tokens=False)["input_ids"], tok.eos_token_id] for _, a in batch]
    width = max(len(p) + len(a) for p, a in zip(prompts, answers, strict=True))
    ids = torch.full((len(batch), width), tok.pad_token_id)
    labels = torch.full((len(batch), width), -100)
    attention = torch.zeros(len(batch), width, dtype=torch.long)
    for i, (p, a) in enumerate(zip(prompts, answers, strict=True)):
        ids[i, : len(p) + len(a)] = torch.tensor(p + a)
        labels[i, len(p) : len(p) + len(a)] = torch.tensor(a)
        attention[i, : len(p) + len(a)] = 1
    return ids, attention, labels


def plain_step(policy: Policy, batch: list[tuple[str, str]], optimizer: torch.optim.Optimizer) -> int:
    ids, attention, labels = plain_batch(policy, batch)
    loss = policy.model(input_ids=ids, attention_mask=attention, labels=labels).loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return int(attention.sum())


def plain_generate(policy: Policy, observations: list[str], max_new_tokens: int) -> int:
    tok = policy.tokenizer
    tok.padding_side = "left"
    texts = [policy.prompt(o).text for o in observations]
    batch = tok(texts, return_tensors="pt", add_special_tokens=False, padding=True)
    out = policy.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=True, temperature=1.0, top_k=0,
                                top_p=1.0, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)  # fmt: skip
    new = out[:, batch["input_ids"].shape[1] :]
    return int(sum((row != tok.pad_token_id).sum() for row in new))


def timed(fns, repeats: int) -> list[float]:
    """Items per second of each of ``fns`` (``fn(repeat)`` returns how many items it processed), best of ``repeats``.

    The functions take turns within every repeat, on the same input, so that a slower moment of the
    machine hits both.
    """
    best = [0.0] * len(fns)
    for repeat in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            items = fn(repeat)
            best[k] = max(best[k], items / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="a pretrained name or a checkpoint path")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top-layers", type=int, default=8, help="decoder layers trained (train_top_layers; 0: all)")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--rows-per-pass", type=int, default=8, help="rows of one pass (sft_step's rows_per_pass)")
    args = parser.parse_args()
    set_torch_threads(None)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    policy = load_pretrained(args.model)
    data = examples(args.batch * args.repeats)
    rng = np.random.default_rng(0)
    batches = [[data[i] for i in rng.choice(len(data), args.batch, replace=False)] for _ in range(args.repeats)]
    observations = [o for o, _ in batches[0]]
    train_top_layers(policy, args.top_layers or None)
    optimizer = torch.optim.AdamW(policy.trainable_parameters(), lr=1e-6)
    policy.model.train()
    rows = {}
    rows["scoring step, first sight"] = timed(
        [lambda r: library_step(policy, batches[r], optimizer), lambda r: plain_step(policy, batches[r], optimizer)],
        args.repeats,
    )
    rows[f"the same, passes of {args.rows_per_pass}"] = timed(
        [lambda r: library_step(policy, batches[r], optimizer, rows_per_pass=args.rows_per_pass),
         lambda r: plain_step(policy, batches[r], optimizer)],
        args.repeats,
    )  # fmt: skip
    seen = FrozenPrefix()
    for batch in batches:  # SFT's later epochs: the bottom states of these examples are already held
        library_step(policy, batch, optimizer, seen)
    rows["scoring step, seen before"] = timed(
        [lambda r: library_step(policy, batches[r], optimizer, seen),
         lambda r: plain_step(policy, batches[r], optimizer)],
        args.repeats,
    )  # fmt: skip
    reference = policy.copy()
    rows["GRPO scoring (3 passes)"] = timed(
        [lambda r: library_grpo(policy, reference, batches[r]), lambda r: plain_grpo(policy, reference, batches[r])],
        args.repeats,
    )
    policy.model.eval()
    prompts = [policy.prompt(o) for o in observations]
    eos, new = policy.tokenizer.eos_token_id, args.max_new_tokens  # counted as generate's: no EOS, no padding
    with torch.no_grad():
        rows["sampling (new tok/s)"] = timed(
            [lambda _: sum(t != eos for r in sample(policy, prompts, 1.0, max_new_tokens=new) for t in r),
             lambda _: plain_generate(policy, observations, new)],
            args.repeats,
        )  # fmt: skip
    trained = f"top {args.top_layers} layers" if args.top_layers else "all layers"
    print(f"model {args.model}, batch {args.batch}, {trained} trained, best of {args.repeats}")
    print(f"{'row (tokens/s)':<26} {'library':>10} {'plain HF':>10} {'ratio':>7}")
    for name, (lib, ref) in rows.items():
        print(f"{name:<26} {lib:>10.1f} {ref:>10.1f} {lib / ref:>6.2f}x")


if __name__ == "__main__":
    main()
