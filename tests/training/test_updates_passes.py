"""A batch run in several passes (rows_per_pass) trains as the one pass would: same loss, same gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actionspaces.training.tiny import build_tiny_policy
from actionspaces.training.updates import Demonstration, grpo_update, length_sorted_passes, sft_step

CORPUS = ["task: mine_block:oak_log", "Skill: mine oak log", "Motion: turn left", "Action: move(5, 0)"] * 10
OBSERVATIONS = ["task: mine_block:oak_log", "task: kill_entity:zombie, health 20", "task: craft_item:stick, plank x4"]
ANSWERS = ["Skill: mine oak log", "Motion: turn left, move forward", "Action: move(5, 0) and press(w)"]


def _policy():
    return build_tiny_policy(CORPUS, vocab_size=300, hidden_size=16, layers=1, heads=2, seed=3)


def _gradients(policy) -> list[torch.Tensor]:
    return [p.grad.clone() for p in policy.model.parameters() if p.grad is not None]


class _Recording(torch.optim.SGD):
    """SGD with lr 0 that keeps the gradients of its first step, so two runs can be compared."""

    def __init__(self, params) -> None:
        self.params = list(params)
        super().__init__(self.params, lr=0.0)
        self.seen: list[torch.Tensor] = []

    def step(self, closure=None):
        if not self.seen:
            self.seen = [p.grad.clone() for p in self.params if p.grad is not None]
        return super().step(closure)


@pytest.mark.parametrize("rows_per_pass", [1, 2, 5])
def test_sft_in_passes_has_the_loss_and_gradient_of_one_pass(rows_per_pass: int) -> None:
    demos = [Demonstration(o, a) for o, a in zip(OBSERVATIONS, ANSWERS, strict=True)]
    results = []
    for passes in (None, rows_per_pass):
        policy = _policy()
        optimizer = _Recording(policy.model.parameters())
        np.random.seed(0)
        metrics = sft_step(demos, steps=1, batch=6, rows_per_pass=passes)(policy, optimizer, 0, None)
        results.append((metrics["loss"], optimizer.seen))
    (loss_one, grads_one), (loss_passes, grads_passes) = results
    assert loss_passes == pytest.approx(loss_one, rel=1e-5)
    assert len(grads_one) == len(grads_passes) > 0
    for a, b in zip(grads_one, grads_passes, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)


def test_grpo_in_passes_has_the_loss_and_gradient_of_one_pass() -> None:
    outcomes = []
    for passes in (None, 2):
        policy, reference = _policy(), _policy()
        prompts = [policy.prompt(o) for o in OBSERVATIONS * 2]
        responses = [[*policy.encode([a])[0], policy.eos_token_id] for a in ANSWERS * 2]
        responses[4] = responses[4][:3]  # rows of different lengths
        optimizer = _Recording(policy.model.parameters())
        np.random.seed(0)
        metrics = grpo_update(policy, optimizer, prompts, responses, torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, 0.0]),
                              reference=reference, minibatches=1, clip=0.2, kl_coef=0.1,
                              rows_per_pass=passes)  # fmt: skip
        outcomes.append((metrics, optimizer.seen))
    (one, grads_one), (several, grads_several) = outcomes
    assert set(one) == set(several) == {"pg_loss", "kl", "clip_frac"}
    for key in one:
        assert several[key] == pytest.approx(one[key], rel=1e-5, abs=1e-7)
    for a, b in zip(grads_one, grads_several, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)


def test_passes_cover_every_row_once_shortest_first_and_refuse_a_bad_size() -> None:
    lengths = [7, 3, 9, 1, 4, 4, 8]
    passes = length_sorted_passes(lengths, 3)
    assert sorted(i for p in passes for i in p.tolist()) == list(range(len(lengths)))
    assert max(len(p) for p in passes) <= 3
    flat = [lengths[i] for p in passes for i in p.tolist()]
    assert flat == sorted(lengths)
    assert length_sorted_passes([], 4) == []
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="rows_per_pass"):
            length_sorted_passes(lengths, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rows_per_pass"):
        sft_step([Demonstration("a", "b")], steps=1, batch=1, rows_per_pass=0)
