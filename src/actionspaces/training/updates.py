"""The two updates a CrossHA recipe is made of: a supervised step and a GRPO epoch, on any :class:`TrainablePolicy`.

* :func:`sft_step` builds a :data:`~actionspaces.training.stages.Step` of next-token loss on the responses
  of (observation, response) demonstrations, the prompt tokens masked out.
* :func:`grpo_update` runs one PPO-clip epoch over sampled responses and their advantages, with an
  optional k3 KL term to a frozen reference, scoring under the policy's grammar where it has one (the
  masks each response was sampled under are replayed, so old, new and reference log-probs agree).

Both draw their mini-batches from numpy's global generator, which
:func:`~actionspaces.training.stages.seed_iteration` seeds per iteration.

Examples:
    >>> from actionspaces.training.tiny import build_tiny_policy
    >>> policy = build_tiny_policy(["Action: move(0, 0)", "observe"], vocab_size=64, hidden_size=16, layers=1, heads=2)
    >>> step = sft_step([Demonstration("observe", "Action: move(0, 0)")], steps=2, batch=4)
    >>> optimizer = torch.optim.AdamW(policy.model.parameters(), lr=1e-2)
    >>> sorted(step(policy, optimizer, 0, None))
    ['loss']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..grpo import policy_loss
from .policy import Encoded, FrozenPrefix, Prompt
from .protocol import TrainablePolicy
from .stages import Step

__all__ = ["Demonstration", "grpo_update", "length_sorted_passes", "sft_backward", "sft_step"]


@dataclass(frozen=True, eq=False)
class Demonstration:
    """One supervised example: what the model saw (text, and the frame a vision policy sees) and the answer."""

    observation: str
    response: str
    frame: np.ndarray | None = None


def length_sorted_passes(lengths: Sequence[int], rows_per_pass: int | None) -> list[np.ndarray]:
    """The positions of ``lengths`` in passes of at most ``rows_per_pass`` rows, shortest rows first.

    A batch run as several forward and backward passes, their gradients summed, pads each pass only to
    its own longest row and keeps its activations small: on a CPU the quick preset's SFT step of 32 rows
    ran about a third faster in passes of 8 (``benchmarks/bench_sft.py``). ``None``: one pass, in the
    given order.

    Examples:
        >>> [p.tolist() for p in length_sorted_passes([5, 1, 4, 2, 3], 2)]
        [[1, 3], [4, 2], [0]]
        >>> [p.tolist() for p in length_sorted_passes([5, 1, 4], None)]
        [[0, 1, 2]]

    Raises:
        ValueError: ``rows_per_pass`` is below 1.
    """
    if rows_per_pass is not None and (
        isinstance(rows_per_pass, bool) or not isinstance(rows_per_pass, int) or rows_per_pass < 1
    ):
        raise ValueError(f"rows_per_pass must be an int >= 1 or None, got {rows_per_pass!r}")
    if not len(lengths):
        return []
    if rows_per_pass is None:
        return [np.arange(len(lengths))]
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [part for part in np.array_split(order, -(-len(order) // rows_per_pass)) if len(part)]


def sft_backward(
    policy: TrainablePolicy,
    prompts: Sequence[Encoded],
    responses: Sequence[list[int]],
    *,
    rows_per_pass: int | None = None,
    frozen: FrozenPrefix | None = None,
) -> float:
    """Back-propagate the mean negative log-likelihood of the response tokens of a batch; return that loss.

    The batch runs in :func:`length_sorted_passes` of at most ``rows_per_pass`` rows, each pass's loss
    divided by the batch's response tokens, so the summed gradients are the whole batch's. Gradients
    accumulate into the parameters' ``.grad``: zero them before, step after.

    Raises:
        ValueError: ``rows_per_pass`` is below 1.
    """
    tokens = max(sum(map(len, responses)), 1)
    loss = 0.0
    for part in length_sorted_passes([len(p.ids) + len(r) for p, r in zip(prompts, responses, strict=True)],
                                     rows_per_pass):  # fmt: skip
        logp, mask = policy.response_logprobs([prompts[i] for i in part], [responses[i] for i in part], frozen=frozen)
        share = -(logp * mask).sum() / tokens
        share.backward()  # type: ignore[no-untyped-call]
        loss += share.item()
    return loss


def sft_step(
    examples: Sequence[Demonstration],
    *,
    steps: int,
    batch: int,
    max_grad_norm: float = 1.0,
    rows_per_pass: int | None = None,
) -> Step:
    """A step of ``steps`` optimizer steps, each on ``batch`` examples drawn with replacement.

    The loss is the mean next-token negative log-likelihood of the response tokens (EOS included);
    gradients are clipped to ``max_grad_norm``. Examples are tokenized (and frames patchified) once, on
    the first call, with that call's policy. A drawn batch runs in passes of at most ``rows_per_pass``
    rows (:func:`length_sorted_passes`; ``None``: one pass), the same loss and gradient up to rounding.
    The step's metric is ``loss``, the mean over its steps.

    Raises:
        ValueError: no examples, ``steps`` or ``batch`` below 1, or ``rows_per_pass`` below 1.
    """
    if not examples:
        raise ValueError("SFT needs at least one example")
    if steps < 1 or batch < 1:
        raise ValueError(f"steps and batch must be >= 1, got {steps} and {batch}")
    length_sorted_passes([], rows_per_pass)  # checked before any training
    encoded: list[tuple[Encoded, list[int]]] = []
    frozen = FrozenPrefix()  # a top-layers policy runs its frozen bottom once per example

    def step(
        policy: TrainablePolicy, optimizer: torch.optim.Optimizer, it: int, reference: TrainablePolicy | None
    ) -> dict[str, float]:
        if not encoded:
            prompts = policy.encode_prompts([policy.prompt(e.observation, e.frame) for e in examples])
            responses = policy.encode([e.response for e in examples])
            encoded.extend((p, [*r, policy.eos_token_id]) for p, r in zip(prompts, responses, strict=True))
        policy.train()
        losses = []
        for _ in range(steps):
            drawn = [encoded[i] for i in np.random.randint(len(encoded), size=batch)]
            optimizer.zero_grad()
            loss = sft_backward(policy, [p for p, _ in drawn], [r for _, r in drawn], rows_per_pass=rows_per_pass,
                                frozen=frozen)  # fmt: skip
            torch.nn.utils.clip_grad_norm_(policy.trainable_parameters(), max_grad_norm)
            optimizer.step()
            losses.append(loss)
        return {"loss": float(np.mean(losses))}

    return step


def grpo_update(
    policy: TrainablePolicy,
    optimizer: torch.optim.Optimizer,
    prompts: Sequence[Prompt],
    responses: Sequence[list[int]],
    advantages: torch.Tensor,
    *,
    reference: TrainablePolicy | None,
    minibatches: int,
    clip: float,
    kl_coef: float = 0.0,
    dual_clip: float = 3.0,
    max_grad_norm: float = 1.0,
    rows_per_pass: int | None = None,
) -> dict[str, float]:
    """One epoch over the rollouts in ``minibatches`` shuffled mini-batches: PPO-clip, token-mean, k3 KL.

    The old log-probs are computed for every mini-batch before the first update (in eval mode). The loss
    is :func:`actionspaces.grpo.policy_loss` with verl's settings: clip ``clip`` both ways, dual clip
    ``dual_clip``, token-mean aggregation, and with a ``reference`` and ``kl_coef > 0`` the ``low_var_kl``
    term clamped as verl does. A mini-batch runs in passes of at most ``rows_per_pass`` rows
    (:func:`length_sorted_passes`), each weighted by its share of the mini-batch's tokens: the token mean
    over the mini-batch and its gradient, up to rounding.

    Args:
        policy: trained in place.
        optimizer: steps once per mini-batch.
        prompts: one per response.
        responses: the sampled token ids (EOS included where it was sampled).
        advantages: one per response, ``(N,)``.
        reference: the frozen policy of the KL term, or ``None``.
        minibatches: how many mini-batches the epoch is split into (at most one per response).
        clip: PPO's clip range.
        kl_coef: the KL term's weight.
        dual_clip: the dual-clip bound on negative advantages.
        max_grad_norm: gradient clipping.
        rows_per_pass: the most rows of one forward and backward pass (``None``: the whole mini-batch).

    Returns:
        The mini-batch means of ``pg_loss``, ``clip_frac`` and (with a KL term) ``kl``.

    Raises:
        ValueError: the lengths of ``prompts``, ``responses`` and ``advantages`` differ, there are none, or
            ``minibatches`` or ``rows_per_pass`` is below 1.
    """
    if not len(prompts) == len(responses) == len(advantages):
        raise ValueError(f"{len(prompts)} prompts, {len(responses)} responses, {len(advantages)} advantages")
    if not prompts or minibatches < 1:
        raise ValueError(f"grpo_update needs rollouts and minibatches >= 1, got {len(prompts)} and {minibatches}")
    prompt_ids = policy.encode_prompts(prompts)
    order = np.random.permutation(len(prompts))
    batches = [b for b in np.array_split(order, minibatches) if len(b)]
    lengths = [len(p.ids) + len(r) for p, r in zip(prompt_ids, responses, strict=True)]
    passes = [[b[part] for part in length_sorted_passes([lengths[i] for i in b], rows_per_pass)] for b in batches]
    # the grammar's masks before each response token, replayed once for the old, new and reference passes
    replayed = policy.constraint.replay_masks(responses) if policy.constraint is not None else None
    masks = [[replayed[torch.as_tensor(p)] if replayed is not None else None for p in parts] for parts in passes]
    frozen = FrozenPrefix()  # a top-layers policy (and a reference sharing its bottom) runs the bottom once
    with torch.no_grad():
        policy.train(False)
        old = [[policy.response_logprobs([prompt_ids[i] for i in p], [responses[i] for i in p], m, frozen)[0]
                for p, m in zip(parts, ms, strict=True)] for parts, ms in zip(passes, masks, strict=True)]  # fmt: skip
    policy.train()
    totals: dict[str, float] = defaultdict(float)
    for b, parts, olds, ms in zip(batches, passes, old, masks, strict=True):
        tokens = max(sum(len(responses[i]) for i in b), 1)
        optimizer.zero_grad()
        for part, old_logp, m in zip(parts, olds, ms, strict=True):
            p, r = [prompt_ids[i] for i in part], [responses[i] for i in part]
            logp, mask = policy.response_logprobs(p, r, m, frozen)
            ref_logp = None
            if reference is not None and kl_coef > 0:
                with torch.no_grad():
                    ref_logp = reference.response_logprobs(p, r, m, frozen)[0]
            loss, metrics = policy_loss(
                logp, old_logp, advantages[part].to(policy.device), mask,
                clip_low=clip, dual_clip=dual_clip, ref_logp=ref_logp, beta=kl_coef if ref_logp is not None else 0.0,
                kl_estimator="low_var_kl", kl_clamp="verl", aggregation="token-mean",
            )  # fmt: skip
            share = float(mask.sum()) / tokens  # this pass's part of the mini-batch's token mean
            (loss * share).backward()  # type: ignore[no-untyped-call]
            for key in ("pg_loss", "kl", "clip_frac"):
                if key in metrics:
                    totals[key] += float(metrics[key]) * share / len(batches)
        torch.nn.utils.clip_grad_norm_(policy.trainable_parameters(), max_grad_norm)
        optimizer.step()
    return dict(totals)
