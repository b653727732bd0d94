import math
from collections import defaultdict
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")

from actionspaces.grpo import aggregate, kl_penalty, policy_loss  # noqa: E402

T = torch.tensor


def batch(seed=0, b=4, t=6, lengths=(6, 3, 1, 4), spread=0.3):
    g = torch.Generator().manual_seed(seed)
    logp = (-torch.rand(b, t, generator=g, dtype=torch.float64) * 3).requires_grad_()
    old = logp.detach() + spread * torch.randn(b, t, generator=g, dtype=torch.float64)
    ref = logp.detach() + spread * torch.randn(b, t, generator=g, dtype=torch.float64)
    adv = torch.randn(b, generator=g, dtype=torch.float64)
    mask = (torch.arange(t)[None, :] < T(lengths)[:, None]).long()
    return logp, old, ref, adv, mask


# ------------------------------------------------------------------ TRL's real loss code as the oracle
trl_grpo = pytest.importorskip("trl.trainer.grpo_trainer")


class _Accel:
    num_processes = 1
    sync_gradients = True

    def gather(self, x):
        return x

    gather_for_metrics = gather

    def reduce(self, x, reduction="sum"):
        return x


def trl_loss(
    logp,
    old,
    ref,
    adv,
    mask,
    *,
    loss_type,
    beta=0.0,
    eps=0.2,
    eps_high=None,
    delta=None,
    level="token",
    ga=1,
    num_items=None,
    max_len=6,
):
    """TRL's GRPOTrainer._compute_loss run on given log-probs (the model forward is replaced)."""
    fake = SimpleNamespace(
        loss_type=loss_type,
        beta=beta,
        epsilon_low=eps,
        epsilon_high=eps if eps_high is None else eps_high,
        importance_sampling_level=level,
        top_entropy_quantile=1.0,
        off_policy_mask_threshold=None,
        use_vllm=False,
        vllm_importance_sampling_correction=False,
        aux_loss_enabled=False,
        _entropy_bonus_enabled=False,
        current_gradient_accumulation_steps=ga,
        max_completion_length=max_len,
        accelerator=_Accel(),
        model=SimpleNamespace(training=True),
        args=SimpleNamespace(delta=delta, use_bias_correction_kl=False, steps_per_generation=ga),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _get_per_token_logps_and_entropies=lambda *a, **k: (logp, torch.zeros_like(logp), None),
    )
    inputs = {
        "prompt_ids": torch.zeros(logp.shape[0], 1, dtype=torch.long),
        "prompt_mask": torch.ones(logp.shape[0], 1, dtype=torch.long),
        "completion_ids": torch.zeros(logp.shape, dtype=torch.long),
        "completion_mask": mask,
        "advantages": adv,
        "old_per_token_logps": old,
        "num_items_in_batch": mask.sum() if num_items is None else torch.as_tensor(num_items),
    }
    if beta:
        inputs["ref_per_token_logps"] = ref
    loss = trl_grpo.GRPOTrainer._compute_loss(fake, None, inputs)
    trl_loss.metrics = {k: v[-1] for k, v in fake._metrics["train"].items()}
    return loss


CASES = [
    dict(),
    dict(eps_high=0.28),
    dict(delta=1.5),
    dict(beta=0.04),
    dict(beta=0.04, eps_high=0.28, delta=1.4),
]


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dr_grpo", "dapo"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "plain")
def test_equals_trl_loss_type_value_and_gradient(loss_type, case):
    logp, old, ref, adv, mask = batch(spread=0.5)
    expected = trl_loss(logp, old, ref, adv, mask, loss_type=loss_type, **case)
    (g_trl,) = torch.autograd.grad(expected, logp)
    ours, _ = policy_loss(
        logp,
        old,
        adv,
        mask,
        clip_low=0.2,
        clip_high=case.get("eps_high"),
        delta=case.get("delta"),
        ref_logp=ref,
        beta=case.get("beta", 0.0),
        aggregation=loss_type,
        max_length=6,
    )
    (g_ours,) = torch.autograd.grad(ours, logp)
    assert abs(ours.item() - expected.item()) < 1e-6
    assert torch.allclose(g_ours, g_trl, atol=1e-6, rtol=0)


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dr_grpo"])
def test_equals_trl_with_gradient_accumulation_2(loss_type):
    logp, old, ref, adv, mask = batch(seed=3, spread=0.4)
    expected = trl_loss(logp, old, ref, adv, mask, loss_type=loss_type, ga=2)
    ours, _ = policy_loss(logp, old, adv, mask, aggregation=loss_type, max_length=6, gradient_accumulation_steps=2)
    assert abs(ours.item() - expected.item()) < 1e-6


def test_dapo_equals_trl_with_a_global_token_count():
    logp, old, ref, adv, mask = batch(seed=4, spread=0.4)
    expected = trl_loss(logp, old, ref, adv, mask, loss_type="dapo", ga=2, num_items=40)
    ours, _ = policy_loss(logp, old, adv, mask, aggregation="dapo", num_items=40)
    assert abs(ours.item() - expected.item()) < 1e-6


def test_gspo_with_grpo_aggregation_equals_trl():
    logp, old, ref, adv, mask = batch(seed=5, spread=0.1)
    expected = trl_loss(logp, old, ref, adv, mask, loss_type="grpo", level="sequence")
    (g_trl,) = torch.autograd.grad(expected, logp)
    ours, _ = policy_loss(logp, old, adv, mask, ratio_level="sequence", aggregation="grpo")
    (g_ours,) = torch.autograd.grad(ours, logp)
    assert abs(ours.item() - expected.item()) < 1e-6
    assert torch.allclose(g_ours, g_trl, atol=1e-6, rtol=0)


def test_clip_metrics_equal_trl():
    logp, old, ref, adv, mask = batch(seed=6, spread=0.5)
    trl_loss(logp, old, ref, adv, mask, loss_type="dapo", beta=0.04)
    _, metrics = policy_loss(logp, old, adv, mask, ref_logp=ref, beta=0.04)
    assert metrics["clip_frac_high"].item() > 0 and metrics["clip_frac_low"].item() > 0  # the case is exercised
    for ours, theirs in [
        ("clip_frac_low", "clip_ratio/low_mean"),
        ("clip_frac_high", "clip_ratio/high_mean"),
        ("clip_frac", "clip_ratio/region_mean"),
        ("kl", "kl"),
    ]:
        assert metrics[ours].item() == pytest.approx(trl_loss.metrics[theirs], abs=1e-6), ours


# ------------------------------------------------------------------ hand-computed values
def test_clip_higher_and_gradients_zero_where_clipped():
    logp = torch.log(T([[1.25, 1.25, 0.7, 0.7]], dtype=torch.float64)).requires_grad_()
    old = torch.zeros(1, 4, dtype=torch.float64)
    adv = T([[1.0, 1.0, -1.0, -1.0]], dtype=torch.float64)
    mask = T([[1, 1, 1, 0]])
    loss, metrics = policy_loss(logp, old, adv, mask, clip_low=0.2, clip_high=0.28, aggregation="token-sum")
    # ratio 1.25 < 1.28: not clipped (-1.25 each); ratio .7 < .8 with A<0: clipped to .8 -> +0.8; token 3 masked
    assert math.isclose(loss.item(), -1.25 - 1.25 + 0.8)
    (grad,) = torch.autograd.grad(loss, logp)
    assert torch.allclose(grad, T([[-1.25, -1.25, 0.0, 0.0]], dtype=torch.float64))
    assert metrics["clip_frac_low"].item() == pytest.approx(1 / 3)
    loss_sym, _ = policy_loss(logp, old, adv, mask, clip_low=0.2, aggregation="token-sum")
    assert math.isclose(loss_sym.item(), -1.2 - 1.2 + 0.8)  # symmetric 0.2 clips the 1.25 ratios


def test_delta_and_dual_clip_cap_negative_advantages():
    logp = torch.log(T([[4.0, 2.0]], dtype=torch.float64)).requires_grad_()
    old = torch.zeros(1, 2, dtype=torch.float64)
    adv = T([-1.0], dtype=torch.float64)
    mask = torch.ones(1, 2)
    plain, _ = policy_loss(logp, old, adv, mask, aggregation="token-sum")
    assert math.isclose(plain.item(), 4.0 + 2.0)
    dual, metrics = policy_loss(logp, old, adv, mask, dual_clip=3.0, aggregation="token-sum")
    assert math.isclose(dual.item(), 3.0 + 2.0)
    assert metrics["dual_clip_frac"].item() == 0.5
    (grad,) = torch.autograd.grad(dual, logp)
    assert torch.allclose(grad, T([[0.0, 2.0]], dtype=torch.float64))  # capped token: no gradient
    delta, _ = policy_loss(logp, old, adv, mask, delta=3.0, aggregation="token-sum")
    assert math.isclose(delta.item(), dual.item())  # same cap when delta == clip_ratio_c


def test_gspo_sequence_ratio_value():
    logp = T([[-1.0, -2.0, -9.0]], dtype=torch.float64, requires_grad=True)
    old = T([[-1.5, -1.5, 0.0]], dtype=torch.float64)
    mask = T([[1, 1, 0]])
    loss, metrics = policy_loss(
        logp, old, T([1.0], dtype=torch.float64), mask, ratio_level="sequence", aggregation="grpo"
    )
    # log w = (0.5 - 0.5) / 2 = 0 -> ratio 1 -> loss -1
    assert math.isclose(loss.item(), -1.0)
    assert metrics["ratio_mean"].item() == 1.0


def test_sequence_ratio_with_token_sum_aggregation_warns():
    logp, old, _, adv, mask = batch()
    with pytest.warns(UserWarning, match="weighting sequences by length"):
        policy_loss(logp, old, adv, mask, ratio_level="sequence", aggregation="dapo")


def test_kl_estimators_and_verl_clamp():
    logp, ref = T([-1.0, -30.0]), T([-2.0, 0.0])
    d = ref - logp
    assert torch.allclose(kl_penalty(logp, ref, "k1"), logp - ref)
    assert torch.allclose(kl_penalty(logp, ref, "abs"), (logp - ref).abs())
    assert torch.allclose(kl_penalty(logp, ref, "k2"), 0.5 * (logp - ref) ** 2)
    assert torch.allclose(kl_penalty(logp, ref, "k3"), torch.exp(d) - d - 1)
    clamped = kl_penalty(logp, ref, "low_var_kl", clamp="verl")
    assert math.isclose(clamped[0].item(), math.exp(-1) + 1 - 1, rel_tol=1e-6)
    assert clamped[1].item() == 10.0  # exp(30) - 31 clamped to 10
    assert kl_penalty(logp, ref, "k3")[1].item() > 1e12  # TRL does not clamp
    with pytest.raises(ValueError, match="unknown KL estimator"):
        kl_penalty(logp, ref, "k4")  # type: ignore[arg-type]


def test_kl_is_aggregated_with_the_policy_normaliser():
    logp, old, ref, adv, mask = batch(seed=7)
    base, _ = policy_loss(logp, old, adv, mask, aggregation="grpo")
    with_kl, metrics = policy_loss(logp, old, adv, mask, aggregation="grpo", ref_logp=ref, beta=0.1)
    kl = kl_penalty(logp.detach(), ref)
    assert math.isclose(with_kl.item() - base.item(), 0.1 * aggregate(kl, mask, "grpo").item(), rel_tol=1e-9)
    assert math.isclose(metrics["kl_loss"].item(), 0.1 * aggregate(kl, mask, "grpo").item(), rel_tol=1e-9)


def test_each_aggregation_hand_computed():
    per_token = T([[1.0, 2.0, 3.0, 4.0], [5.0, 0.0, 0.0, 0.0], [7.0, 7.0, 0.0, 0.0]], dtype=torch.float64)
    mask = T([[1, 1, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0]])  # the third row is fully masked
    expected = {
        "grpo": (10 / 4 + 5 / 1 + 0) / 3,  # TRL counts every row
        "bnpo": 15 / 5,
        "dapo": 15 / 5,
        "token-mean": 15 / 5,
        "dr_grpo": 15 / (3 * 8),
        "token-sum": 15.0,
        "seq-mean-token-sum": 15 / 2,  # verl leaves fully masked rows out of the count
        "seq-mean-token-mean": (10 / 4 + 5 / 1) / 2,
        "seq-mean-token-sum-norm": 15 / 2 / 4,  # default factor: padded length T = 4
    }
    for name, value in expected.items():
        got = aggregate(per_token, mask, name, max_length=8 if name == "dr_grpo" else None)
        assert got.item() == pytest.approx(value, rel=1e-7), name  # verl divides by |o_i| + 1e-8
    assert math.isclose(aggregate(per_token, mask, "dapo", num_items=10, world_size=2).item(), 15 / 5)
    assert aggregate(per_token, mask, "seq-mean-token-mean", num_sequences=5).item() == pytest.approx(7.5 / 5, rel=1e-7)
    assert math.isclose(aggregate(per_token, mask, "seq-mean-token-sum-norm", max_length=10).item(), 15 / 2 / 10)


def _split_losses(aggregation, **kw):
    logp, old, _, adv, mask = batch(seed=9, b=4, lengths=(6, 2, 5, 1), spread=0.4)
    full, _ = policy_loss(logp, old, adv, mask, aggregation=aggregation, **kw)
    (g_full,) = torch.autograd.grad(full, logp)
    total, grads = 0.0, torch.zeros_like(logp)
    extra = {"gradient_accumulation_steps": 2} if aggregation in ("grpo", "dr_grpo", "bnpo") else {}
    if aggregation in ("dapo", "token-mean"):
        extra["num_items"] = mask.sum()
    if aggregation.startswith("seq-mean"):
        extra["num_sequences"] = 4
    for rows in (slice(0, 2), slice(2, 4)):
        lp = logp.detach()[rows].clone().requires_grad_()
        part, _ = policy_loss(lp, old[rows], adv[rows], mask[rows], aggregation=aggregation, **kw, **extra)
        (g,) = torch.autograd.grad(part, lp)
        total += part.item()
        grads[rows] = g
    return full.item(), total, g_full, grads


@pytest.mark.parametrize(
    "aggregation", ["grpo", "dapo", "token-mean", "dr_grpo", "seq-mean-token-mean", "seq-mean-token-sum-norm"]
)
def test_gradient_accumulation_1_and_2_agree(aggregation):
    kw = {"max_length": 6} if aggregation in ("dr_grpo", "seq-mean-token-sum-norm") else {}
    full, split, g_full, g_split = _split_losses(aggregation, **kw)
    assert abs(full - split) < 1e-9
    assert torch.allclose(g_full, g_split, atol=1e-9)


def test_bnpo_is_not_accumulation_invariant_as_documented():
    full, split, _, _ = _split_losses("bnpo")
    assert abs(full - split) > 1e-3  # each micro-batch normalises by its own tokens


def test_ga_is_refused_where_counts_do_the_job():
    logp, old, _, adv, mask = batch()
    with pytest.raises(ValueError, match="num_items"):
        policy_loss(logp, old, adv, mask, aggregation="dapo", gradient_accumulation_steps=2)


def test_on_policy_gradient_is_minus_advantage_over_length():
    logp, _, _, adv, mask = batch(seed=11)
    loss, metrics = policy_loss(logp, None, adv, mask, aggregation="grpo")
    (grad,) = torch.autograd.grad(loss, logp)
    lens = mask.sum(-1, keepdim=True)
    expected = -adv[:, None] * mask / lens / 4
    assert torch.allclose(grad, expected, atol=1e-12)
    assert metrics["ratio_mean"].item() == 1.0 and metrics["clip_frac"].item() == 0.0


def test_fully_masked_rows_and_empty_batches_are_finite_with_zero_gradient():
    logp = torch.full((2, 3), float("-inf"), dtype=torch.float64, requires_grad=True)
    old = torch.full((2, 3), float("nan"), dtype=torch.float64)
    mask = torch.zeros(2, 3)
    for aggregation in ("grpo", "bnpo", "dapo", "dr_grpo", "seq-mean-token-mean", "seq-mean-token-sum-norm"):
        loss, metrics = policy_loss(
            logp, old, T([1.0, -1.0]), mask, aggregation=aggregation, max_length=3, ref_logp=old, beta=0.1
        )
        (grad,) = torch.autograd.grad(loss, logp)
        assert loss.item() == 0.0 and torch.equal(grad, torch.zeros_like(grad)), aggregation
        assert all(math.isfinite(v.item()) for v in metrics.values())
    empty = torch.zeros(0, 5, requires_grad=True)
    loss, _ = policy_loss(empty, None, torch.zeros(0), torch.zeros(0, 5), aggregation="grpo")
    loss.backward()
    assert loss.item() == 0.0 and empty.grad is not None and empty.grad.shape == (0, 5)


def test_padding_with_minus_inf_does_not_poison_gradients():
    logp, old, _, adv, mask = batch(seed=12)
    padded = logp.detach().clone().masked_fill(mask == 0, float("-inf")).requires_grad_()
    loss_a, _ = policy_loss(logp, old, adv, mask)
    loss_b, _ = policy_loss(padded, old.masked_fill(mask == 0, float("-inf")), adv, mask)
    (ga,) = torch.autograd.grad(loss_a, logp)
    (gb,) = torch.autograd.grad(loss_b, padded)
    assert math.isclose(loss_a.item(), loss_b.item()) and torch.allclose(ga, gb)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(clip_low=1.0), "clip_low"),
        (dict(delta=0.9), "delta"),
        (dict(dual_clip=1.0), "dual_clip"),
        (dict(beta=0.1), "ref_logp"),
        (dict(aggregation="mean"), "unknown aggregation"),
        (dict(aggregation="dr_grpo"), "max_length"),
        (dict(ratio_level="step"), "ratio_level"),
    ],
)
def test_policy_loss_option_errors(kwargs, match):
    logp, old, _, adv, mask = batch()
    with pytest.raises(ValueError, match=match):
        policy_loss(logp, old, adv, mask, **kwargs)


def test_nan_under_the_mask_is_named():
    logp, old, _, adv, mask = batch()
    bad = old.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="old_logp has 1 NaN"):
        policy_loss(logp, bad, adv, mask)
    with pytest.raises(ValueError, match="advantages"):
        policy_loss(logp, old, T([float("nan"), 0.0, 0.0, 0.0], dtype=torch.float64), mask)
    with pytest.raises(ValueError, match="shape"):
        policy_loss(logp, old[:, :2], adv, mask)
