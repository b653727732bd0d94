"""GRPO maths and the small reward functions never turn finite input into NaN or inf silently (issue 27)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from actionspaces import ChainSpace
from actionspaces.grpo import group_advantages, policy_loss
from actionspaces.rewards import episode_success, format_reward
from actionspaces.token_cost import TokenCounter, token_penalized_return

FINITE32 = st.floats(allow_nan=False, allow_infinity=False, width=32)
LOGP = st.floats(min_value=-1e4, max_value=0.0, allow_nan=False, width=32)


def test_a_token_whose_log_prob_drifted_by_100_is_clipped_not_overflowed() -> None:
    logp = torch.zeros(2, 3, requires_grad=True)
    old = torch.zeros(2, 3)
    old[0, 1] = -100.0  # exp(100) overflows float32
    for advantages in ([0.0, 1.0], [-1.0, 1.0], [1.0, -1.0]):
        loss, metrics = policy_loss(logp, old, torch.tensor(advantages), torch.ones(2, 3))
        loss.backward()
        assert math.isfinite(loss.item()) and bool(torch.isfinite(logp.grad).all())
        assert all(math.isfinite(float(v)) for v in metrics.values())
        logp.grad = None


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("beta", math.inf, "beta must be a finite number"),
        ("beta", -1.0, "beta must be a finite number"),
        ("log_ratio_clamp", math.nan, "log_ratio_clamp must be a finite number > 0"),
        ("log_ratio_clamp", -1.0, "log_ratio_clamp must be a finite number > 0"),
        ("log_ratio_clamp", math.inf, "log_ratio_clamp must be a finite number > 0"),
        ("clip_high", math.inf, "finite clip_high"),
        ("clip_low", math.nan, "clip_low"),
        ("delta", math.inf, "delta must be a finite number > 1"),
        ("dual_clip", math.nan, "dual_clip must be a finite number > 1"),
    ],
)
def test_policy_loss_options_are_validated(option: str, value: float, message: str) -> None:
    logp = torch.zeros(1, 2)
    with pytest.raises(ValueError, match=message):
        policy_loss(logp, logp, torch.ones(1), torch.ones(1, 2), ref_logp=logp, **{option: value})


@settings(max_examples=150, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 5),
    data=st.data(),
    aggregation=st.sampled_from(["grpo", "bnpo", "dapo", "seq-mean-token-mean"]),
    beta=st.sampled_from([0.0, 0.04]),
)
def test_policy_loss_is_finite_or_a_named_error(rows, cols, data, aggregation, beta) -> None:
    values = lambda strategy: torch.tensor(  # noqa: E731
        data.draw(st.lists(strategy, min_size=rows * cols, max_size=rows * cols)), dtype=torch.float32
    ).reshape(rows, cols)
    logp, old, ref = values(LOGP).requires_grad_(), values(LOGP), values(LOGP)
    advantages = torch.tensor(data.draw(st.lists(FINITE32, min_size=rows, max_size=rows)), dtype=torch.float32)
    mask = values(st.sampled_from([0.0, 1.0]))
    try:
        loss, _ = policy_loss(logp, old, advantages, mask, ref_logp=ref, beta=beta, aggregation=aggregation)
    except ValueError as err:
        assert "overflowed" in str(err) and "rows" in str(err)
        return
    assert math.isfinite(loss.item())
    loss.backward()
    assert bool(torch.isfinite(logp.grad).all())


@settings(max_examples=200, deadline=None)
@given(
    rewards=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2, max_size=12),
    scale=st.sampled_from(["group", "batch", "none"]),
    eps=st.sampled_from([0.0, 1e-6, 1e-4]),
)
def test_group_advantages_of_finite_float64_rewards_are_finite(rewards, scale, eps) -> None:
    tensor = torch.tensor(rewards, dtype=torch.float64)
    adv = group_advantages(tensor, [i % 2 for i in range(len(rewards))], scale=scale, eps=eps)
    assert bool(torch.isfinite(adv).all())


def test_group_advantages_scale_huge_rewards_before_squaring() -> None:
    huge = group_advantages(torch.tensor([1e200, -1e200, 3e200, 1e200], dtype=torch.float64), 2)
    unit = group_advantages(torch.tensor([1.0, -1.0, 3.0, 1.0], dtype=torch.float64), 2)
    assert torch.allclose(huge, unit, atol=1e-3) and bool((huge != 0).any())
    tiny = group_advantages(torch.tensor([1e-310, 0.0], dtype=torch.float64), 2, eps=0.0)
    assert torch.allclose(tiny, torch.tensor([0.7071, -0.7071], dtype=torch.float64), atol=1e-4)
    with pytest.raises(ValueError, match="eps must be a finite number"):
        group_advantages(torch.tensor([1.0, 0.0]), 2, eps=math.inf)


@pytest.mark.parametrize("count", [0.5, math.inf, True, "1", None])
def test_episode_success_reads_only_integer_counts(count) -> None:
    with pytest.raises(TypeError, match=r"info\['mine_block'\]\['oak_log'\] must be an integer count"):
        episode_success({"mine_block": {"oak_log": count}}, "mine_block:oak_log")


def test_episode_success_accepts_numpy_counts_and_refuses_negative_ones() -> None:
    assert episode_success({"mine_block": {"oak_log": np.int64(2)}}, "mine_block:oak_log") == 1.0
    assert episode_success({"mine_block": {"oak_log": np.uint8(0)}}, "mine_block:oak_log") == 0.0
    with pytest.raises(ValueError, match="negative count"):
        episode_success({"mine_block": {"oak_log": -1}}, "mine_block:oak_log")


def test_token_costs_take_numpy_scalars_and_name_non_integral_counts() -> None:
    assert token_penalized_return(np.True_, np.int64(10), np.float32(0.01)) == pytest.approx(0.9)
    assert token_penalized_return(np.float64(1.0), [np.int32(3), 7], 0.01) == pytest.approx(0.9)
    with pytest.raises(ValueError, match=r"got float 2\.5"):
        token_penalized_return(1, [1, 2.5], 0.01)
    with pytest.raises(ValueError, match=r"got float 3\.0"):
        token_penalized_return(1, 3.0, 0.01)
    with pytest.raises(TypeError, match="got str"):
        token_penalized_return(1, "12", 0.01)
    assert TokenCounter(lambda text: np.int64(4))("x") == 4
    with pytest.raises(TypeError, match="returned float"):
        TokenCounter(lambda text: 4.0)("x")


@pytest.mark.parametrize("penalty", [math.inf, math.nan, -1.0])
def test_format_reward_penalty_must_be_finite(penalty: float) -> None:
    with pytest.raises(ValueError, match="penalty must be a finite number"):
        format_reward("Action: no_op", penalty=penalty)


@pytest.mark.parametrize("max_length", [math.nan, math.inf, 0, -3, 2.5, True])
def test_chain_max_length_must_be_a_positive_int(max_length) -> None:
    with pytest.raises(ValueError, match="max_length must be a positive int"):
        ChainSpace(max_length=max_length)
