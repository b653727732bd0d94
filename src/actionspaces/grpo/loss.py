"""The clipped policy-gradient loss of GRPO, with TRL's and verl's options and normalisers.

Per token ``t`` of completion ``i`` (ratio ``ρ = exp(logp − old_logp)``, advantage ``A_i``)::

    c   = clip(ρ, 1 − clip_low, 1 + clip_high)
    ρ̃   = min(ρ, delta)                           # TRL's two-sided clip, when delta is set
    pg  = −min(ρ̃·A, c·A)
    pg  = min(pg, −A·dual_clip)   where A < 0     # verl's dual clip, when dual_clip is set
    l   = pg + beta · KL(logp, ref_logp)

and ``l`` is reduced over the mask by one of the aggregations below, which name TRL's ``loss_type`` and
verl's ``loss_agg_mode`` and equal them exactly:

=========================== ===========================================================================
``grpo``                    mean over rows of (Σ_t m·l / max(1, |o_i|)), ÷ GA               (TRL)
``bnpo``                    Σ m·l / max(1, Σ m) over this micro-batch, ÷ GA                  (TRL)
``dapo`` = ``token-mean``   Σ m·l / (max(1, num_items) / world_size)                  (TRL, verl)
``dr_grpo``                 Σ m·l / (B · max_length), ÷ GA                                    (TRL)
``token-sum``               Σ m·l · world_size                                                (verl)
``seq-mean-token-sum``      Σ_i Σ_t m·l / num_sequences · world_size                           (verl)
``seq-mean-token-mean``     Σ_i (Σ_t m·l / |o_i|) / num_sequences · world_size                 (verl)
``seq-mean-token-sum-norm`` seq-mean-token-sum / max_length (default: the padded length T)    (verl)
=========================== ===========================================================================

``num_items`` is the number of policy tokens in the whole optimizer step (every accumulation
micro-batch, all processes); passing it makes ``dapo`` invariant to how the step is split. It defaults
to this micro-batch's tokens. ``num_sequences`` defaults to this micro-batch's rows with at least one
token (verl's rule).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch

__all__ = ["AGGREGATIONS", "Aggregation", "KLClamp", "KLEstimator", "aggregate", "kl_penalty", "policy_loss"]

Aggregation = Literal[
    "grpo",
    "bnpo",
    "dapo",
    "dr_grpo",
    "token-mean",
    "token-sum",
    "seq-mean-token-sum",
    "seq-mean-token-mean",
    "seq-mean-token-sum-norm",
]
AGGREGATIONS: tuple[str, ...] = Aggregation.__args__  # type: ignore[attr-defined]
KLEstimator = Literal["k1", "k2", "k3", "abs", "kl", "mse", "low_var_kl"]
KLClamp = Literal["none", "verl"]

_KL_ALIASES = {"kl": "k1", "mse": "k2", "low_var_kl": "k3"}
_GA_AGGREGATIONS = ("grpo", "bnpo", "dr_grpo")  # TRL divides these by the accumulation steps
_TOKEN_SUMMING = ("bnpo", "dapo", "dr_grpo", "token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def kl_penalty(
    logp: torch.Tensor, ref_logp: torch.Tensor, estimator: KLEstimator = "k3", clamp: KLClamp = "none"
) -> torch.Tensor:
    """Per-token estimate of KL(π ‖ π_ref) from the log-probs of the sampled tokens.

    ``k1 = logp − ref``, ``abs = |logp − ref|``, ``k2 = ½(logp − ref)²``, ``k3 = exp(ref − logp) −
    (ref − logp) − 1`` (Schulman's low-variance estimator, TRL's only KL). ``clamp="verl"`` applies verl's
    clamps to k3: the log difference to ±20 and the result to ±10; TRL clamps nothing.

    Examples:
        >>> kl_penalty(torch.tensor([-1.0]), torch.tensor([-2.0]))
        tensor([0.3679])
    """
    name = _KL_ALIASES.get(estimator, estimator)
    if clamp not in ("none", "verl"):
        raise ValueError(f"clamp must be 'none' or 'verl', got {clamp!r}")
    diff = logp - ref_logp
    if name == "k1":
        return diff
    if name == "abs":
        return diff.abs()
    if name == "k2":
        return 0.5 * diff.square()
    if name == "k3":
        d = -diff
        if clamp == "verl":
            d = d.clamp(-20.0, 20.0)
        k3 = torch.exp(d) - d - 1
        return k3.clamp(-10.0, 10.0) if clamp == "verl" else k3
    raise ValueError(f"unknown KL estimator {estimator!r}; use one of k1, k2, k3, abs (or kl, mse, low_var_kl)")


def aggregate(
    per_token: torch.Tensor,
    mask: torch.Tensor,
    aggregation: Aggregation = "dapo",
    *,
    num_items: int | float | torch.Tensor | None = None,
    num_sequences: int | float | torch.Tensor | None = None,
    max_length: int | None = None,
    gradient_accumulation_steps: int = 1,
    world_size: int = 1,
) -> torch.Tensor:
    """Reduce a ``(B, T)`` per-token loss over ``mask`` as TRL's ``loss_type`` / verl's ``loss_agg_mode``.

    See the module docstring for each formula. Masked entries never reach the result, even when they
    hold NaN. An empty batch gives 0.

    Examples:
        >>> l = torch.tensor([[1.0, 1.0, 1.0, 1.0], [4.0, 0.0, 0.0, 0.0]])
        >>> m = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]])
        >>> aggregate(l, m, "dapo"), aggregate(l, m, "grpo"), aggregate(l, m, "dr_grpo", max_length=4)
        (tensor(1.6000), tensor(2.5000), tensor(1.))
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}; use one of {', '.join(AGGREGATIONS)}")
    if per_token.ndim != 2 or per_token.shape != mask.shape:
        raise ValueError(f"per_token and mask must both be (B, T); got {tuple(per_token.shape)}, {tuple(mask.shape)}")
    if gradient_accumulation_steps < 1 or world_size < 1:
        raise ValueError("gradient_accumulation_steps and world_size must be >= 1")
    if gradient_accumulation_steps != 1 and aggregation not in _GA_AGGREGATIONS:
        raise ValueError(
            f"{aggregation!r} is not divided by the accumulation steps; pass the optimizer step's token "
            "(num_items) or sequence (num_sequences) count instead"
        )
    m = mask.bool()
    masked = torch.where(m, per_token, torch.zeros((), dtype=per_token.dtype, device=per_token.device))
    row_sum = masked.sum(-1)
    row_len = m.sum(-1).to(per_token.dtype)
    rows = per_token.shape[0]
    total = row_sum.sum()
    ga = gradient_accumulation_steps
    if aggregation == "grpo":
        return (row_sum / row_len.clamp(min=1)).sum() / max(rows, 1) / ga
    if aggregation == "bnpo":
        return total / row_len.sum().clamp(min=1) / ga
    if aggregation in ("dapo", "token-mean"):
        n = row_len.sum() if num_items is None else _positive("num_items", num_items, per_token)
        return total / (n.clamp(min=1) / world_size)
    if aggregation == "dr_grpo":
        if max_length is None or max_length < 1:
            raise ValueError("dr_grpo needs max_length (TRL's max_completion_length), a positive int")
        return total / (max(rows, 1) * max_length) / ga
    if aggregation == "token-sum":
        return total * world_size
    seqs = (
        (row_len > 0).sum().to(per_token.dtype)
        if num_sequences is None
        else _positive("num_sequences", num_sequences, per_token)
    )
    seqs = seqs.clamp(min=1)
    if aggregation == "seq-mean-token-mean":
        return (row_sum / (row_len + 1e-8)).sum() / seqs * world_size
    seq_sum = total / seqs * world_size
    if aggregation == "seq-mean-token-sum":
        return seq_sum
    factor = per_token.shape[1] if max_length is None else max_length
    if factor < 1:
        raise ValueError(f"max_length must be a positive int, got {factor}")
    return seq_sum / factor


def policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float | None = None,
    delta: float | None = None,
    dual_clip: float | None = None,
    ratio_level: Literal["token", "sequence"] = "token",
    log_ratio_clamp: float | None = None,
    ref_logp: torch.Tensor | None = None,
    beta: float = 0.0,
    kl_estimator: KLEstimator = "k3",
    kl_clamp: KLClamp = "none",
    aggregation: Aggregation = "dapo",
    num_items: int | float | torch.Tensor | None = None,
    num_sequences: int | float | torch.Tensor | None = None,
    max_length: int | None = None,
    gradient_accumulation_steps: int = 1,
    world_size: int = 1,
    check_finite: bool = True,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO-clip GRPO loss over a micro-batch, and its metrics.

    Args:
        logp: ``(B, T)`` log-probs of the sampled tokens under the current policy (with gradient).
        old_logp: ``(B, T)`` log-probs under the sampling policy; ``None`` uses ``logp.detach()`` (the
            on-policy shortcut of TRL and verl: ratio 1, gradient kept).
        advantages: ``(B,)`` or ``(B, T)``.
        mask: ``(B, T)``, 1 on policy tokens (completion × tool/env mask), 0 elsewhere.
        clip_low, clip_high: ε_low and ε_high (TRL ``epsilon`` / ``epsilon_high``, verl
            ``clip_ratio_low`` / ``clip_ratio_high``); ``clip_high`` defaults to ``clip_low``.
        delta: TRL's upper bound on the unclipped ratio (INTELLECT-2), > 1.
        dual_clip: verl's ``clip_ratio_c`` (> 1): caps the loss of negative-advantage tokens at
            ``dual_clip·|A|``. verl's default is 3.0; TRL has none.
        ratio_level: ``"token"`` or ``"sequence"`` (GSPO: one ratio per row,
            ``exp(Σ_t m·(logp − old) / |o_i|)``); use it with ``aggregation="grpo"``.
        log_ratio_clamp: clamp the log ratio to ±this (verl: 20.0); ``None`` (TRL) clamps only where
            ``exp`` could overflow the dtype (at ``log(finfo.max) / 2``: 44.4 in float32 and bfloat16, 5.5 in
            float16), so a drifted token's ratio is bounded instead of becoming inf, and its loss NaN.
        ref_logp: ``(B, T)`` reference-policy log-probs; required when ``beta > 0``.
        beta: KL coefficient (TRL ``beta``, verl ``kl_loss_coef``); the KL is aggregated with the same
            normaliser as the policy term.
        kl_estimator, kl_clamp: see :func:`kl_penalty`.
        aggregation, num_items, num_sequences, max_length, gradient_accumulation_steps, world_size:
            see :func:`aggregate`.
        check_finite: raise when an unmasked entry of an input is NaN or ±inf, or when the loss overflows
            from finite inputs (the message names the rows); one device sync each.

    Raises:
        ValueError: an option is out of range or not finite (the message names it), shapes disagree, or
            (with ``check_finite``) an input or the loss is not finite.

    Returns:
        ``(loss, metrics)``: the scalar loss, and detached scalars ``pg_loss``, ``kl_loss``, ``kl``
        (masked mean, when a reference is given), ``approx_kl`` (mean of old − logp, verl's ``ppo_kl``),
        ``clip_frac_low``, ``clip_frac_high``, ``clip_frac`` (TRL's ``clip_ratio/*``), ``dual_clip_frac``
        (tokens whose loss the delta or dual clip capped) and ``ratio_mean`` / ``ratio_min`` / ``ratio_max``.

    Examples:
        >>> logp = torch.log(torch.tensor([[0.5, 0.5], [0.5, 0.5]])).requires_grad_()
        >>> old = torch.log(torch.tensor([[0.25, 0.5], [0.5, 0.5]]))
        >>> loss, metrics = policy_loss(logp, old, torch.tensor([1.0, -1.0]), torch.ones(2, 2), aggregation="grpo")
        >>> round(loss.item(), 4), metrics["clip_frac_high"].item()
        (-0.05, 0.25)
    """
    clip_high = clip_low if clip_high is None else clip_high
    _check_options(clip_low, clip_high, delta, dual_clip, ratio_level, beta, ref_logp, aggregation)
    if log_ratio_clamp is not None and not (math.isfinite(log_ratio_clamp) and log_ratio_clamp > 0):
        raise ValueError(f"log_ratio_clamp must be a finite number > 0 (verl uses 20.0), got {log_ratio_clamp}")
    _check_shapes(logp, old_logp, advantages, mask, ref_logp)
    shape = logp.shape
    m = mask.bool()
    adv = advantages[:, None].expand(shape) if advantages.ndim == 1 else advantages
    if check_finite:
        for name, tensor in (("logp", logp), ("old_logp", old_logp), ("ref_logp", ref_logp), ("advantages", adv)):
            if tensor is not None and not bool(torch.isfinite(tensor.detach()[m]).all()):
                bad = int((~torch.isfinite(tensor.detach()[m])).sum())
                raise ValueError(f"{name} has {bad} NaN or infinite entries under the mask")

    # Masked positions are zeroed *before* any arithmetic: padding log-probs of -inf would otherwise
    # turn into NaN gradients through exp(), even though the mask removes their values.
    zero = torch.zeros((), dtype=logp.dtype, device=logp.device)
    logp = torch.where(m, logp, zero)
    old = logp.detach() if old_logp is None else torch.where(m, old_logp, zero)
    adv = torch.where(m, adv.to(logp.dtype), zero)

    log_ratio = logp - old
    if ratio_level == "sequence":
        log_ratio = log_ratio.sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(min=1)
    # A ratio exp(log_ratio) that overflows the dtype would turn the loss into inf, or NaN where A = 0. The
    # bound, half the largest exponent, leaves every ratio a sane update meets untouched and keeps A·ratio
    # finite for |A| < sqrt(finfo.max).
    bound = _ratio_bound(logp.dtype) if log_ratio_clamp is None else min(log_ratio_clamp, _ratio_bound(logp.dtype))
    log_ratio = log_ratio.clamp(-bound, bound)
    ratio = torch.exp(log_ratio).expand(shape)

    clipped = ratio.clamp(1 - clip_low, 1 + clip_high)
    capped_ratio = ratio.clamp(max=delta) if delta is not None else ratio
    pg = -torch.minimum(capped_ratio * adv, clipped * adv)
    capped = torch.zeros_like(m)
    if delta is not None:
        capped = (ratio > delta) & (adv < 0)
    if dual_clip is not None:
        cap = -adv * dual_clip
        capped = capped | ((pg > cap) & (adv < 0))
        pg = torch.where(adv < 0, torch.minimum(pg, cap), pg)

    agg_kwargs = {
        "num_items": num_items,
        "num_sequences": num_sequences,
        "max_length": max_length,
        "gradient_accumulation_steps": gradient_accumulation_steps,
        "world_size": world_size,
    }
    per_token = pg
    kl: torch.Tensor | None = None
    if ref_logp is not None:
        kl = kl_penalty(logp, torch.where(m, ref_logp, zero), kl_estimator, kl_clamp)
        if beta > 0:
            per_token = pg + beta * kl
    loss = aggregate(per_token, m, aggregation, **agg_kwargs)  # type: ignore[arg-type]
    if check_finite and not bool(torch.isfinite(loss.detach())):
        rows = (~torch.isfinite(torch.where(m, per_token.detach(), zero))).any(-1).nonzero().flatten().tolist()
        raise ValueError(
            f"the loss overflowed to {loss.item()} from finite inputs (rows {rows[:10]} hold the non-finite tokens): "
            "their ratio or advantage is too large for the dtype; bound it with log_ratio_clamp or dual_clip, "
            "or compute in float32"
        )

    with torch.no_grad():
        low = (ratio < 1 - clip_low) & (adv < 0)
        high = (ratio > 1 + clip_high) & (adv > 0)
        metrics = {
            "pg_loss": aggregate(pg.detach(), m, aggregation, **agg_kwargs),  # type: ignore[arg-type]
            "kl_loss": (
                aggregate(beta * kl.detach(), m, aggregation, **agg_kwargs)  # type: ignore[arg-type]
                if kl is not None and beta > 0
                else zero.detach()
            ),
            "approx_kl": _masked_mean(old - logp.detach(), m),
            "clip_frac_low": _masked_mean(low, m),
            "clip_frac_high": _masked_mean(high, m),
            "clip_frac": _masked_mean(low | high, m),
            "dual_clip_frac": _masked_mean(capped, m),
            "ratio_mean": _masked_mean(ratio, m),
            "ratio_min": _masked_extreme(ratio, m, "min"),
            "ratio_max": _masked_extreme(ratio, m, "max"),
        }
        if kl is not None:
            metrics["kl"] = _masked_mean(kl, m)
    return loss, metrics


def _check_shapes(
    logp: torch.Tensor,
    old_logp: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    ref_logp: torch.Tensor | None,
) -> None:
    if logp.ndim != 2:
        raise ValueError(f"logp must be (B, T), got shape {tuple(logp.shape)}")
    shape = logp.shape
    for name, tensor in (("mask", mask), ("old_logp", old_logp), ("ref_logp", ref_logp)):
        if tensor is not None and tensor.shape != shape:
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}, logp {tuple(shape)}")
    if advantages.shape not in (shape, shape[:1]):
        raise ValueError(f"advantages must be (B,) or (B, T) for logp {tuple(shape)}, got {tuple(advantages.shape)}")


def _check_options(  # noqa: PLR0917 - a private validator called once
    clip_low: float,
    clip_high: float,
    delta: float | None,
    dual_clip: float | None,
    ratio_level: str,
    beta: float,
    ref_logp: torch.Tensor | None,
    aggregation: str,
) -> None:
    if not (0.0 <= clip_low < 1.0) or not (0.0 <= clip_high < math.inf):
        raise ValueError(f"need 0 <= clip_low < 1 and a finite clip_high >= 0, got {clip_low}, {clip_high}")
    if delta is not None and not (1.0 < delta < math.inf):
        raise ValueError(f"delta must be a finite number > 1 (it bounds the ratio from above), got {delta}")
    if dual_clip is not None and not (1.0 < dual_clip < math.inf):
        raise ValueError(f"dual_clip must be a finite number > 1, got {dual_clip}")
    if ratio_level not in ("token", "sequence"):
        raise ValueError(f"ratio_level must be 'token' or 'sequence', got {ratio_level!r}")
    if not (0.0 <= beta < math.inf):
        raise ValueError(f"beta must be a finite number >= 0, got {beta}")
    if beta > 0 and ref_logp is None:
        raise ValueError("beta > 0 needs ref_logp, the reference policy's log-probs")
    if ratio_level == "sequence" and aggregation in _TOKEN_SUMMING:
        warnings.warn(
            f"a sequence-level ratio with aggregation={aggregation!r} sums one per-sequence loss over every "
            "token, weighting sequences by length; GSPO uses aggregation='grpo' (or 'seq-mean-token-mean')",
            stacklevel=3,
        )


def _ratio_bound(dtype: torch.dtype) -> float:
    """Half the largest exponent of ``dtype``: ``exp`` of it times any advantage below its own size is finite."""
    return math.log(torch.finfo(dtype).max) / 2


def _masked_mean(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    x = x.detach().to(torch.float32) if not x.is_floating_point() else x.detach()
    return torch.where(m, x, torch.zeros((), dtype=x.dtype, device=x.device)).sum() / m.sum().clamp(min=1)


def _masked_extreme(x: torch.Tensor, m: torch.Tensor, kind: Literal["min", "max"]) -> torch.Tensor:
    vals = x.detach()[m]
    if vals.numel() == 0:
        return torch.zeros((), dtype=x.dtype, device=x.device)
    return vals.min() if kind == "min" else vals.max()


def _positive(name: str, value: int | float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    tensor = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if tensor.ndim != 0 or not bool(torch.isfinite(tensor)) or float(tensor) < 0:
        raise ValueError(f"{name} must be a finite, non-negative scalar, got {value!r}")
    return tensor
