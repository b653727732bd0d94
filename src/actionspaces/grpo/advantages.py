"""Group-relative advantages: single-step GRPO, trajectory-level (multi-turn) GRPO, and GiGPO step groups.

All statistics use the unbiased standard deviation (ddof = 1), as TRL and verl do. ``eps`` is added to the
standard deviation; :data:`EPS_TRL` (1e-4) and :data:`EPS_VERL` (1e-6) reproduce each library.

Choices that are ours, made explicit:

* A group whose valid rewards are all equal gets advantage exactly 0 (TRL divides a float residue by
  ``eps``; we do not).
* NaN rewards ("unscorable", TRL's ``None``) are left out of every statistic and get advantage 0.
* A *singleton* group (one valid reward) follows ``singleton``: ``"zero"`` (TRL's numbers: its unbiased
  std of one value is NaN, so the advantage becomes 0), ``"raw"`` (verl: mean 0, std 1, so the advantage
  is the score itself, divided by ``1 + eps`` when scaling) or ``"error"``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Literal

import torch

from ._groups import GroupSpec, group_index, hashable

__all__ = [
    "EPS_TRL",
    "EPS_VERL",
    "Scale",
    "Singleton",
    "broadcast_to_tokens",
    "group_advantages",
    "step_advantages",
    "trajectory_advantages",
]

#: TRL's ``1e-4`` added to the group standard deviation.
EPS_TRL = 1e-4
#: verl's ``1e-6`` (``compute_grpo_outcome_advantage`` and CrossAgent's MTRL).
EPS_VERL = 1e-6

Scale = Literal["group", "batch", "none"]
Singleton = Literal["zero", "raw", "error"]


def _segment_stats(values: torch.Tensor, index: torch.Tensor, n_groups: int) -> tuple[torch.Tensor, ...]:
    """Per-group ``(count, mean, unbiased std, spread)`` over the non-NaN entries of ``values``."""
    valid = ~torch.isnan(values)
    x = torch.where(valid, values, torch.zeros_like(values))
    count = torch.zeros(n_groups, dtype=values.dtype, device=values.device).index_add_(0, index, valid.to(values.dtype))
    total = torch.zeros_like(count).index_add_(0, index, x)
    mean = total / count.clamp(min=1)
    dev = torch.where(valid, x - mean[index], torch.zeros_like(x))
    var = torch.zeros_like(count).index_add_(0, index, dev * dev) / (count - 1).clamp(min=1)
    # max - min of the valid values: a group is constant exactly when this is 0.
    big = torch.finfo(values.dtype).max
    hi = torch.full_like(count, -big).scatter_reduce_(0, index, torch.where(valid, x, -big), "amax")
    lo = torch.full_like(count, big).scatter_reduce_(0, index, torch.where(valid, x, big), "amin")
    return count, mean, var.sqrt(), hi - lo


def group_advantages(
    rewards: torch.Tensor,
    groups: GroupSpec,
    *,
    scale: Scale = "group",
    eps: float = EPS_TRL,
    singleton: Singleton = "zero",
) -> torch.Tensor:
    """GRPO advantages ``(r - mean_group) / (std + eps)`` for a 1-D tensor of rewards.

    Args:
        rewards: shape ``(N,)``; NaN marks an unscorable row.
        groups: an ``int`` G (rows ``[0, G)`` are one group, then ``[G, 2G)``, … as TRL orders its
            generations) or one label per row (verl's ``uid``).
        scale: ``"group"`` divides by each group's std (TRL ``scale_rewards="group"``, verl
            ``norm_adv_by_std_in_grpo=True``), ``"batch"`` by the std of the whole batch with group means
            (TRL ``"batch"``), ``"none"`` only centres (Dr. GRPO).
        eps: added to the std; :data:`EPS_TRL` or :data:`EPS_VERL`.
        singleton: what a group with a single valid reward gets (see the module docstring).

    Returns:
        Advantages of shape ``(N,)`` in the rewards' dtype, finite everywhere. The statistics are computed
        in float64, so a group whose variance overflows its dtype (float16 ``[300, -300]``, float32
        ``[2e19, -2e19]``) is still scaled, not silently zeroed; each group is divided by its largest
        magnitude before it is squared, so float64 rewards of ±1e200 are scaled too.

    Examples:
        >>> group_advantages(torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0]), 3)
        tensor([ 1.1545, -0.5773, -0.5773,  0.0000,  0.0000,  0.0000])
    """
    if not isinstance(rewards, torch.Tensor) or rewards.ndim != 1:
        raise ValueError(f"rewards must be a 1-D tensor, got {_describe(rewards)}")
    if not rewards.is_floating_point():
        raise TypeError(f"rewards must be a floating tensor, got {rewards.dtype}")
    if torch.isinf(rewards).any():
        raise ValueError(f"rewards contain ±inf at rows {torch.isinf(rewards).nonzero().flatten().tolist()}")
    if scale not in ("group", "batch", "none"):
        raise ValueError(f"scale must be 'group', 'batch' or 'none', got {scale!r}")
    if singleton not in ("zero", "raw", "error"):
        raise ValueError(f"singleton must be 'zero', 'raw' or 'error', got {singleton!r}")
    if not (isinstance(eps, int | float) and 0 <= eps < math.inf):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    index, n_groups = group_index(groups, len(rewards))
    index = index.to(rewards.device)
    dtype, rewards = rewards.dtype, rewards.double()  # float64 statistics: a float16 or float32 variance overflows
    # Each group is divided by its largest |reward| before any sum or square, so that the statistics of
    # rewards near the dtype's limits (±1e200 in float64) neither overflow nor underflow: x − mean =
    # size·(x/size − mean/size) and std = size·std(x/size), so the advantage is unchanged.
    valid = ~torch.isnan(rewards)
    magnitude = torch.where(valid, rewards.abs(), torch.zeros_like(rewards))
    size = torch.zeros(n_groups, dtype=rewards.dtype, device=rewards.device).scatter_reduce_(
        0, index, magnitude, "amax"
    )
    size = torch.where(size > 0, size, torch.ones_like(size))
    scaled = rewards / size[index]
    count, mean, std, spread = _segment_stats(scaled, index, n_groups)
    centred = scaled - mean[index]  # in units of the group's size
    if scale == "group":
        # eps in the group's units; not eps / size, which torch computes as eps · (1 / size): NaN for eps = 0
        # and a subnormal size
        eps_scaled = torch.zeros_like(size) if eps == 0 else eps / size
        adv = centred / (std[index] + eps_scaled[index])
    elif scale == "batch":
        biggest = magnitude.max() if bool(valid.any()) else torch.ones((), dtype=rewards.dtype)
        biggest = biggest if biggest > 0 else torch.ones_like(biggest)
        pool = rewards[valid] / biggest
        batch_std = pool.std() if len(pool) > 1 else torch.zeros((), dtype=rewards.dtype)
        adv = centred * (size[index] / biggest) / (batch_std + (eps / biggest if eps else 0.0))
    else:
        adv = centred * size[index]
    lonely = count == 1
    if singleton == "error" and bool(lonely.any()):
        raise ValueError(
            f"groups {lonely.nonzero().flatten().tolist()} have a single valid reward; GRPO needs at least two "
            "per group (pass singleton='zero' or 'raw' to accept them)"
        )
    if singleton == "raw":
        raw = rewards / (1 + eps) if scale != "none" else rewards
        adv = torch.where(lonely[index], raw, adv)
    else:
        adv = torch.where(lonely[index], torch.zeros_like(adv), adv)
    constant = (spread == 0) & (count > 1)
    adv = torch.where(constant[index], torch.zeros_like(adv), adv)
    return torch.nan_to_num(adv, nan=0.0).to(dtype)


def trajectory_advantages(
    scores: torch.Tensor,
    groups: GroupSpec,
    trajectories: GroupSpec,
    *,
    stats: Literal["trajectory", "row"] = "trajectory",
    scale: Scale = "group",
    eps: float = EPS_VERL,
    singleton: Singleton = "zero",
) -> torch.Tensor:
    """Multi-turn GRPO: one score per trajectory, group statistics over trajectories, one advantage per row.

    A row is one turn (model call) of a trajectory; every row of a trajectory carries the trajectory's
    score (its episodic return) and gets the same advantage, which :func:`broadcast_to_tokens` spreads over
    that turn's policy tokens.

    Args:
        scores: shape ``(R,)``, the trajectory's return on each of its rows.
        groups: per-row group label (rollouts of the same task from the same start: verl's ``uid``).
        trajectories: per-row trajectory label (``traj_uid``).
        stats: ``"trajectory"`` (the paper's episode-level form: each trajectory counted once) or
            ``"row"`` (CrossAgent MTRL's default ``compute_mean_std_cross_all_data=True``: every row enters
            the statistics, so long trajectories weigh more).
        scale, eps, singleton: as in :func:`group_advantages`.

    Examples:
        >>> scores = torch.tensor([1.0, 1.0, 1.0, 0.0])   # trajectory a: 3 turns, b: 1 turn
        >>> trajectory_advantages(scores, [0, 0, 0, 0], ["a", "a", "a", "b"])
        tensor([ 0.7071,  0.7071,  0.7071, -0.7071])
        >>> trajectory_advantages(scores, [0, 0, 0, 0], ["a", "a", "a", "b"], stats="row")
        tensor([ 0.5000,  0.5000,  0.5000, -1.5000])
    """
    if not isinstance(scores, torch.Tensor) or scores.ndim != 1:
        raise ValueError(f"scores must be a 1-D tensor, got {_describe(scores)}")
    n = len(scores)
    if stats == "row":
        group_index(trajectories, n, what="trajectories")  # validates the labels
        return group_advantages(scores, groups, scale=scale, eps=eps, singleton=singleton)
    if stats != "trajectory":
        raise ValueError(f"stats must be 'trajectory' or 'row', got {stats!r}")
    g_index, _ = group_index(groups, n)
    t_index, n_traj = group_index(trajectories, n, what="trajectories")
    first = torch.full((n_traj,), n, dtype=torch.long).scatter_reduce_(0, t_index, torch.arange(n), "amin")
    traj_scores, traj_groups = scores[first.to(scores.device)], g_index[first]
    same_score = (scores == traj_scores[t_index.to(scores.device)]) | (
        torch.isnan(scores) & torch.isnan(traj_scores[t_index.to(scores.device)])
    )
    if not bool(same_score.all()):
        bad = (~same_score).nonzero().flatten().tolist()
        raise ValueError(f"rows {bad} carry a score different from their trajectory's first row")
    if not bool((g_index == traj_groups[t_index]).all()):
        bad = (g_index != traj_groups[t_index]).nonzero().flatten().tolist()
        raise ValueError(f"rows {bad} belong to a trajectory that spans several groups")
    adv = group_advantages(traj_scores, traj_groups, scale=scale, eps=eps, singleton=singleton)
    return adv[t_index.to(adv.device)]


def step_advantages(
    step_rewards: torch.Tensor,
    groups: GroupSpec,
    trajectories: GroupSpec,
    anchors: Sequence[Hashable],
    *,
    gamma: float = 0.95,
    mode: Literal["mean_norm", "mean_std_norm"] = "mean_norm",
    eps: float = EPS_VERL,
) -> torch.Tensor:
    """GiGPO step advantages A^S: rows of one group that share an anchor state form a step group.

    Each row's score is its discounted return ``R_t = Σ_{k>=t} γ^(k-t) r_k`` within its trajectory (rows
    of a trajectory must appear in turn order). Step groups are rows with the same group label *and* the
    same anchor (any hashable observation; numpy arrays are compared by content). A singleton step group
    gets 0. Combine with the episode term as ``A = trajectory_advantages(...) + ω · step_advantages(...)``.

    Args:
        step_rewards: shape ``(R,)``, the reward of each turn.
        groups, trajectories: per-row labels as in :func:`trajectory_advantages`.
        anchors: per-row anchor state (e.g. the text observation before the turn).
        gamma: discount γ in ``[0, 1]`` (GiGPO's examples use 0.95).
        mode: ``"mean_norm"`` (x − mean, GiGPO's default) or ``"mean_std_norm"`` ((x − mean)/(std + eps)).
        eps: added to the std in ``"mean_std_norm"``.

    Examples:
        >>> r = torch.tensor([0.0, 1.0, 0.0, 0.0])          # two trajectories of two turns
        >>> step_advantages(r, [0] * 4, ["a", "a", "b", "b"], ["s0", "s1", "s0", "s2"], gamma=0.5)
        tensor([ 0.2500,  0.0000, -0.2500,  0.0000])
    """
    if not isinstance(step_rewards, torch.Tensor) or step_rewards.ndim != 1:
        raise ValueError(f"step_rewards must be a 1-D tensor, got {_describe(step_rewards)}")
    if not bool(torch.isfinite(step_rewards).all()):
        raise ValueError("step_rewards contain NaN or ±inf")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if mode not in ("mean_norm", "mean_std_norm"):
        raise ValueError(f"mode must be 'mean_norm' or 'mean_std_norm', got {mode!r}")
    n = len(step_rewards)
    g_index, _ = group_index(groups, n)
    t_index, n_traj = group_index(trajectories, n, what="trajectories")
    if len(anchors) != n:
        raise ValueError(f"anchors has {len(anchors)} entries for {n} rows")
    returns = _discounted_returns(step_rewards, t_index.to(step_rewards.device), n_traj, gamma)
    step_groups = [(int(g), hashable(a)) for g, a in zip(g_index.tolist(), anchors, strict=True)]
    adv = group_advantages(
        returns, step_groups, scale="group" if mode == "mean_std_norm" else "none", eps=eps, singleton="zero"
    )
    return adv


def _discounted_returns(rewards: torch.Tensor, t_index: torch.Tensor, n_traj: int, gamma: float) -> torch.Tensor:
    """``R_t`` per row; vectorised over trajectories, one loop over turn positions (from the last)."""
    n = len(rewards)
    order = torch.argsort(t_index, stable=True)  # rows grouped by trajectory, turn order kept
    lengths = torch.bincount(t_index, minlength=n_traj)
    starts = torch.cumsum(lengths, 0) - lengths
    position = torch.arange(n, device=rewards.device) - starts[t_index[order]]
    padded = torch.zeros(n_traj, int(lengths.max()) if n else 0, dtype=rewards.dtype, device=rewards.device)
    padded[t_index[order], position] = rewards[order]
    out = torch.zeros_like(padded)
    running = torch.zeros(n_traj, dtype=rewards.dtype, device=rewards.device)
    for t in range(padded.shape[1] - 1, -1, -1):
        running = padded[:, t] + gamma * running
        out[:, t] = running
    returns = torch.empty_like(rewards)
    returns[order] = out[t_index[order], position]
    return returns


def broadcast_to_tokens(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Spread one advantage per row over that row's tokens: ``advantages[:, None] * mask``.

    Examples:
        >>> broadcast_to_tokens(torch.tensor([2.0, -1.0]), torch.tensor([[1, 1, 0], [1, 0, 0]]))
        tensor([[ 2.,  2.,  0.],
                [-1.,  0.,  0.]])
    """
    if advantages.ndim != 1 or mask.ndim != 2 or len(advantages) != mask.shape[0]:
        raise ValueError(f"need advantages (B,) and mask (B, T); got {tuple(advantages.shape)} and {tuple(mask.shape)}")
    return torch.where(mask.bool(), advantages[:, None], torch.zeros((), dtype=advantages.dtype))


def _describe(x: object) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)}"
    return type(x).__name__
