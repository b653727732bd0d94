import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from actionspaces.grpo import (  # noqa: E402
    EPS_TRL,
    EPS_VERL,
    broadcast_to_tokens,
    group_advantages,
    step_advantages,
    trajectory_advantages,
)

T = torch.tensor


def close(a, b, tol=1e-6):
    return torch.allclose(a.double(), torch.as_tensor(b, dtype=torch.float64), atol=tol, rtol=0)


def test_hand_computed_group_with_both_epsilons():
    r = T([1.0, 0.0, 0.0], dtype=torch.float64)
    mean, std = 1 / 3, math.sqrt(1 / 3)  # unbiased: ((2/3)^2 + 2 (1/3)^2) / 2 = 1/3
    for eps in (EPS_TRL, EPS_VERL):
        expected = [(x - mean) / (std + eps) for x in (1.0, 0.0, 0.0)]
        assert close(group_advantages(r, 3, eps=eps), expected, 1e-12)
    trl, verl = group_advantages(r, 3, eps=EPS_TRL), group_advantages(r, 3, eps=EPS_VERL)
    assert not torch.equal(trl, verl)  # the presets really differ


def test_unbiased_std_not_population_std():
    r = T([0.0, 2.0], dtype=torch.float64)  # mean 1, unbiased std sqrt(2), population std 1
    assert close(group_advantages(r, 2, eps=0.0), [-1 / math.sqrt(2), 1 / math.sqrt(2)], 1e-12)


def test_zero_variance_groups_get_exactly_zero_even_with_float_residue():
    r = T([0.1, 0.1, 0.1, 1.0, 0.0, 1.0], dtype=torch.float32)
    adv = group_advantages(r, 3, eps=EPS_TRL)
    assert torch.equal(adv[:3], torch.zeros(3))
    assert (adv[3:] != 0).all()


def test_nan_rewards_are_left_out_of_statistics_and_get_zero():
    r = T([1.0, float("nan"), 0.0, 3.0], dtype=torch.float64)
    adv = group_advantages(r, 4, eps=0.0)
    valid = [1.0, 0.0, 3.0]
    mean, std = np.mean(valid), np.std(valid, ddof=1)
    assert close(adv, [(1 - mean) / std, 0.0, (0 - mean) / std, (3 - mean) / std], 1e-12)


def test_singleton_choices():
    r = T([float("nan"), 2.0, 1.0, 0.0], dtype=torch.float64)  # group 0 has one valid reward
    assert close(
        group_advantages(r, 2, singleton="zero"),
        [0.0, 0.0, 0.5 / (math.sqrt(0.5) + EPS_TRL), -0.5 / (math.sqrt(0.5) + EPS_TRL)],
    )
    raw = group_advantages(r, 2, singleton="raw", eps=EPS_VERL)
    assert math.isclose(raw[1].item(), 2.0 / (1 + EPS_VERL))  # verl: mean 0, std 1
    assert raw[0].item() == 0.0
    assert group_advantages(r, 2, singleton="raw", scale="none")[1].item() == 2.0
    with pytest.raises(ValueError, match="single valid reward"):
        group_advantages(r, 2, singleton="error")
    with pytest.raises(ValueError, match="single valid reward"):
        group_advantages(T([1.0, 2.0]), [0, 1], singleton="error")


def test_batch_and_none_scaling():
    r = T([1.0, 0.0, 4.0, 2.0], dtype=torch.float64)
    batch_std = np.std([1, 0, 4, 2], ddof=1)
    assert close(
        group_advantages(r, 2, scale="batch", eps=0.0),
        [0.5 / batch_std, -0.5 / batch_std, 1 / batch_std, -1 / batch_std],
        1e-12,
    )
    assert close(group_advantages(r, 2, scale="none"), [0.5, -0.5, 1.0, -1.0], 1e-12)


def test_group_labels_equal_block_size():
    r = torch.randn(12, dtype=torch.float64)
    by_size = group_advantages(r, 4)
    ids = torch.arange(12) // 4
    assert torch.equal(group_advantages(r, ids), by_size)
    assert torch.equal(group_advantages(r, np.asarray(ids)), by_size)
    assert torch.equal(group_advantages(r, [f"task{i}" for i in ids.tolist()]), by_size)
    perm = torch.randperm(12)  # interleaved rows: labels, not positions, decide groups
    assert torch.allclose(group_advantages(r[perm], ids[perm]), by_size[perm])


@pytest.mark.parametrize(
    ("rewards", "groups", "match"),
    [
        (T([[1.0]]), 1, "1-D"),
        (T([1.0, float("inf")]), 2, "inf"),
        (T([1.0, 2.0, 3.0]), 2, "whole groups"),
        (T([1.0, 2.0]), [0], "labels for 2 rows"),
        (T([1.0, 2.0]), 0, ">= 1"),
    ],
)
def test_group_advantages_errors(rewards, groups, match):
    with pytest.raises(ValueError, match=match):
        group_advantages(rewards, groups)


def test_group_advantages_rejects_integer_rewards_and_unknown_options():
    with pytest.raises(TypeError, match="floating"):
        group_advantages(T([1, 0]), 2)
    with pytest.raises(ValueError, match="scale"):
        group_advantages(T([1.0, 0.0]), 2, scale="std")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="hashable"):
        group_advantages(T([1.0, 0.0]), [{"a": 1}, {"a": 1}])


def test_trajectory_vs_row_statistics():
    scores = T([1.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    groups, trajs = [0, 0, 0, 0], ["a", "a", "a", "b"]
    per_traj = trajectory_advantages(scores, groups, trajs, eps=0.0)
    s = 1 / math.sqrt(2)  # trajectories [1, 0]: mean .5, std sqrt(.5)
    assert close(per_traj, [0.5 / s, 0.5 / s, 0.5 / s, -0.5 / s], 1e-12)
    per_row = trajectory_advantages(scores, groups, trajs, stats="row", eps=0.0)
    assert close(per_row, [0.5, 0.5, 0.5, -1.5], 1e-12)  # rows [1,1,1,0]: mean .75, std .5


def test_trajectory_advantages_validate_rows():
    with pytest.raises(ValueError, match="different from their trajectory"):
        trajectory_advantages(T([1.0, 0.0]), [0, 0], ["a", "a"])
    with pytest.raises(ValueError, match="spans several groups"):
        trajectory_advantages(T([1.0, 1.0, 0.0]), [0, 1, 1], ["a", "a", "b"])
    with pytest.raises(ValueError, match="stats"):
        trajectory_advantages(T([1.0]), [0], ["a"], stats="episode")  # type: ignore[arg-type]


def test_step_advantages_hand_computed():
    # trajectory a: rewards 0, 1 ; trajectory b: 0, 0 ; gamma .5 -> returns a: [.5, 1], b: [0, 0]
    r = T([0.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    anchors = ["s0", "s1", "s0", "s2"]
    adv = step_advantages(r, [0] * 4, ["a", "a", "b", "b"], anchors, gamma=0.5)
    assert close(adv, [0.25, 0.0, -0.25, 0.0], 1e-12)  # s1, s2 are singleton step groups
    std = step_advantages(r, [0] * 4, ["a", "a", "b", "b"], anchors, gamma=0.5, mode="mean_std_norm", eps=0.0)
    assert close(std, [0.25 / math.sqrt(0.125), 0.0, -0.25 / math.sqrt(0.125), 0.0], 1e-12)


def test_step_advantages_interleaved_rows_and_array_anchors():
    # rows of two trajectories interleaved; anchors are numpy arrays compared by content
    r = T([1.0, 0.0, 2.0, 0.0], dtype=torch.float64)
    trajs = ["a", "b", "a", "b"]
    anchors = [np.zeros(3), np.zeros(3), np.ones(3), np.ones(3)]
    adv = step_advantages(r, [0] * 4, trajs, anchors, gamma=1.0)
    # returns: a = [3, 2], b = [0, 0]; step groups {a0, b0}: [3, 0], {a1, b1}: [2, 0]
    assert close(adv, [1.5, -1.5, 1.0, -1.0], 1e-12)
    # the same anchor in different task groups does not share a step group
    assert close(step_advantages(r, [0, 1, 0, 1], trajs, anchors, gamma=1.0), [0.0] * 4)


def test_step_advantages_errors():
    with pytest.raises(ValueError, match="gamma"):
        step_advantages(T([0.0]), [0], ["a"], ["s"], gamma=1.5)
    with pytest.raises(ValueError, match="anchors"):
        step_advantages(T([0.0, 1.0]), [0, 0], ["a", "a"], ["s"])
    with pytest.raises(ValueError, match="NaN"):
        step_advantages(T([float("nan")]), [0], ["a"], ["s"])


def test_broadcast_to_tokens():
    out = broadcast_to_tokens(T([2.0, -1.0]), T([[1, 1, 0], [1, 0, 0]]))
    assert torch.equal(out, T([[2.0, 2.0, 0.0], [-1.0, 0.0, 0.0]]))
    with pytest.raises(ValueError):
        broadcast_to_tokens(T([1.0]), T([[1], [1]]))


@pytest.mark.parametrize(
    ("rewards", "dtype"),
    [([300.0, -300.0], torch.float16), ([2e19, -2e19], torch.float32), ([1e300, -1e300], torch.float64)],
)
def test_group_statistics_do_not_overflow_the_rewards_dtype(rewards, dtype):
    adv = group_advantages(torch.tensor(rewards, dtype=dtype), 2)
    # the variance of these groups overflows the dtype; computed in float64 it does not (float64's own
    # extreme still overflows and is zeroed, as nan_to_num documents: the only case left)
    assert adv.dtype == dtype
    if dtype != torch.float64:
        assert torch.allclose(adv.double(), torch.tensor([0.7071, -0.7071], dtype=torch.float64), atol=1e-3)
    assert torch.isfinite(adv).all()
