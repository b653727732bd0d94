import pytest

torch = pytest.importorskip("torch")

from actionspaces.grpo import token_logprobs, token_logprobs_from_hidden  # noqa: E402


def naive(logits, ids, temperature=1.0):
    return torch.log_softmax(logits.float() / temperature, -1).gather(-1, ids[..., None]).squeeze(-1)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("chunk_rows", [None, 1, 5])
def test_token_logprobs_values_and_gradients_match_naive(temperature, chunk_rows):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 50, generator=g, dtype=torch.float64) * 4
    ids = torch.randint(0, 50, (3, 7), generator=g)
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    ours = token_logprobs(a, ids, temperature=temperature, chunk_rows=chunk_rows)
    ref = torch.log_softmax(b / temperature, -1).gather(-1, ids[..., None]).squeeze(-1)
    assert torch.allclose(ours.double(), ref, atol=1e-5)
    w = torch.randn(3, 7, generator=g, dtype=torch.float64)
    (ga,) = torch.autograd.grad((ours.double() * w).sum(), a)
    (gb,) = torch.autograd.grad((ref * w).sum(), b)
    assert torch.allclose(ga, gb, atol=1e-5)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("chunk_rows", [None, 1])
def test_a_masked_target_has_minus_inf_logprob_and_leaves_the_other_gradients_finite(chunk_rows, temperature):
    # a -inf logit is a token masked out of the distribution; a prompt position may still target it
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 30, generator=g, dtype=torch.float64)
    logits[:, 3] = float("-inf")
    ids = torch.tensor([3, 5, 3, 7])
    a = logits.clone().requires_grad_()
    logp = token_logprobs(a, ids, temperature=temperature, chunk_rows=chunk_rows)
    assert torch.isneginf(logp[[0, 2]]).all()
    assert torch.allclose(logp[[1, 3]], naive(logits, ids, temperature)[[1, 3]], atol=1e-6)
    scored = logp.masked_fill(torch.isneginf(logp), 0.0)  # what a response mask does to such positions
    (grad,) = torch.autograd.grad(scored.sum(), a)
    assert torch.isfinite(grad).all()
    assert torch.equal(grad[[0, 2]], torch.zeros(2, 30, dtype=torch.float64))
    expected = torch.softmax(logits[[1, 3]] / temperature, -1).neg()
    expected[0, 5] += 1
    expected[1, 7] += 1
    expected /= temperature
    assert torch.allclose(grad[[1, 3]], expected, atol=1e-6)


def test_token_logprobs_does_not_modify_logits_and_matches_trl():
    trl_utils = pytest.importorskip("trl.trainer.utils")
    logits = torch.randn(2, 9, 300)
    ids = torch.randint(0, 300, (2, 9))
    before = logits.clone()
    ours = token_logprobs(logits, ids, temperature=0.5)
    assert torch.equal(logits, before)
    assert torch.allclose(ours, trl_utils.selective_log_softmax(logits / 0.5, ids), atol=1e-5)


def test_token_logprobs_bfloat16_is_computed_in_float32():
    logits = torch.randn(4, 100).bfloat16()
    ids = torch.randint(0, 100, (4,))
    out = token_logprobs(logits, ids)
    assert out.dtype == torch.float32
    assert torch.allclose(out, naive(logits.float(), ids), atol=1e-5)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("temperature", [1.0, 1.3])
@pytest.mark.parametrize("chunk_rows", [None, 4])
def test_from_hidden_values_and_gradients_match_naive(bias, temperature, chunk_rows):
    g = torch.Generator().manual_seed(1)
    hidden = torch.randn(3, 5, 16, generator=g, dtype=torch.float64)
    head = torch.nn.Linear(16, 80, bias=bias, dtype=torch.float64)
    ids = torch.randint(0, 80, (3, 5), generator=g)
    w = torch.randn(3, 5, generator=g, dtype=torch.float64)
    params = [hidden.requires_grad_(), head.weight] + ([head.bias] if bias else [])

    ref = naive(head(hidden).double(), ids, temperature).double()
    grads_ref = torch.autograd.grad((ref * w).sum(), params)
    ours = token_logprobs_from_hidden(
        hidden, head.weight, ids, bias=head.bias if bias else None, temperature=temperature, chunk_rows=chunk_rows
    )
    grads = torch.autograd.grad((ours.double() * w).sum(), params)
    assert torch.allclose(ours.double(), ref, atol=1e-5)
    for got, want in zip(grads, grads_ref, strict=True):
        assert torch.allclose(got.double(), want, atol=1e-5)


def test_from_hidden_gradient_only_where_needed():
    hidden = torch.randn(6, 8, requires_grad=True)
    weight = torch.randn(30, 8)  # frozen head
    out = token_logprobs_from_hidden(hidden, weight, torch.randint(0, 30, (6,)))
    out.sum().backward()
    assert hidden.grad is not None and weight.grad is None


def test_from_hidden_bfloat16_model():
    hidden = torch.randn(2, 4, 8).bfloat16()
    weight = torch.randn(40, 8).bfloat16()
    ids = torch.randint(0, 40, (2, 4))
    out = token_logprobs_from_hidden(hidden, weight, ids)
    assert out.dtype == torch.float32
    assert torch.allclose(out, naive(hidden @ weight.T, ids), atol=1e-2)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: token_logprobs(torch.randn(2, 5), torch.tensor([0, 5])), ValueError, r"\[0, 5\)"),
        (lambda: token_logprobs(torch.randn(2, 5), torch.tensor([0])), ValueError, "shape"),
        (lambda: token_logprobs(torch.randn(2, 5), torch.tensor([0.0, 1.0])), TypeError, "integer"),
        (lambda: token_logprobs(torch.randn(2, 5), torch.tensor([0, 1]), temperature=0.0), ValueError, "temperature"),
        (lambda: token_logprobs(torch.randn(2, 5), torch.tensor([0, 1]), chunk_rows=0), ValueError, "chunk_rows"),
        (
            lambda: token_logprobs_from_hidden(torch.randn(2, 4), torch.randn(5, 3), torch.tensor([0, 1])),
            ValueError,
            "weight",
        ),
        (
            lambda: token_logprobs_from_hidden(
                torch.randn(2, 4), torch.randn(5, 4), torch.tensor([0, 1]), bias=torch.randn(4)
            ),
            ValueError,
            "bias",
        ),
    ],
)
def test_logprob_input_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_empty_inputs():
    assert token_logprobs(torch.randn(0, 5), torch.zeros(0, dtype=torch.long)).shape == (0,)
    assert token_logprobs_from_hidden(torch.randn(0, 4), torch.randn(5, 4), torch.zeros(0, dtype=torch.long)).shape == (
        0,
    )


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ([0.0, float("nan"), 1.0], "NaN logit"),
        ([0.0, float("inf"), 1.0], r"\+inf logit"),
        ([float("-inf")] * 3, "every logit is -inf"),
    ],
)
def test_an_undefined_log_softmax_is_an_error_naming_the_row(row, why):
    logits = torch.zeros(2, 2, 3)
    logits[1, 0] = torch.tensor(row)
    ids = torch.zeros(2, 2, dtype=torch.long)
    with pytest.raises(ValueError, match=rf"logits row 2 has no log-softmax: .*{why}"):
        token_logprobs(logits, ids)
    head = torch.nn.Linear(3, 3, bias=True)
    with torch.no_grad():
        head.bias.copy_(torch.tensor(row))
        head.weight.zero_()
    with pytest.raises(ValueError, match=rf"hidden-state row 0 has no log-softmax: .*{why}"):
        token_logprobs_from_hidden(torch.zeros(1, 3), head.weight, torch.zeros(1, dtype=torch.long), bias=head.bias)


def test_a_masked_chosen_token_has_probability_zero():
    out = token_logprobs(torch.tensor([[0.0, float("-inf")]]), torch.tensor([1]))
    assert torch.isneginf(out).all()
