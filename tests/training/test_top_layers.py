"""Training only the top layers: frozen weights shared by copies, kept on reload, run once by FrozenPrefix."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from actionspaces.training.policy import (  # noqa: E402
    FrozenPrefix,
    load_policy,
    optimizer_groups,
    response_logprobs,
    train_top_layers,
)
from actionspaces.training.tiny import build_tiny_policy  # noqa: E402
from actionspaces.training.updates import Demonstration, grpo_update, sft_step  # noqa: E402

CORPUS = ["task: mine_block:oak_log", "Action: move(0, 0) and press(w)", "Motion: turn left"] * 20


def three_layers():
    return build_tiny_policy(CORPUS, vocab_size=300, hidden_size=16, layers=3, heads=2, seed=1)


def rows(policy, n: int = 3):
    prompts = policy.encode_prompts([policy.prompt(f"task: mine_block:oak_log {k}") for k in range(n)])
    responses = [policy.encode(["Action: move(0, 0)" + " and press(w)" * k])[0] for k in range(n)]
    return prompts, responses


def test_only_the_top_layers_and_the_final_norm_train():
    policy = train_top_layers(three_layers(), 1)
    names = {n for n, p in policy.model.named_parameters() if p.requires_grad}
    assert names and all(".layers.2." in n or (n.endswith("norm.weight") and ".layers." not in n) for n in names)
    assert not policy.model.get_input_embeddings().weight.requires_grad
    train_top_layers(policy, None)
    assert all(p.requires_grad for p in policy.model.parameters())


@pytest.mark.parametrize("layers", [0, 4, -1, 1.5, True, "2"])
def test_a_layer_count_out_of_range_is_named(layers):
    with pytest.raises(ValueError, match="layers must be an integer from 1 to 3"):
        train_top_layers(three_layers(), layers)


def test_a_copy_shares_the_frozen_weights_and_owns_the_trained_ones():
    policy = train_top_layers(three_layers(), 1)
    twin = policy.copy()
    for (name, a), b in zip(policy.model.named_parameters(), twin.model.parameters(), strict=True):
        assert (a is b) == (not a.requires_grad), name
    before = [p.detach().clone() for p in policy.model.parameters()]
    with torch.no_grad():
        for p in twin.trainable_parameters():
            p.add_(1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, policy.model.parameters(), strict=True))


def test_a_saved_top_layers_checkpoint_reloads_with_the_same_layers_frozen(tmp_path: Path):
    policy = train_top_layers(three_layers(), 2)
    policy.save(tmp_path)
    loaded = load_policy(tmp_path)
    assert [p.requires_grad for p in loaded.model.parameters()] == [p.requires_grad for p in policy.model.parameters()]
    train_top_layers(three_layers(), None).save(tmp_path / "all")
    assert all(p.requires_grad for p in load_policy(tmp_path / "all").model.parameters())


def test_frozen_prefix_scores_what_the_whole_model_scores_and_runs_the_bottom_once():
    policy = train_top_layers(three_layers(), 1)
    policy.model.eval()
    prompts, responses = rows(policy)
    plain, mask = response_logprobs(policy, prompts, responses)
    frozen = FrozenPrefix()
    calls = []
    first = policy.model.get_decoder().layers[0]
    handle = first.register_forward_hook(lambda *_: calls.append(1))
    try:
        cached, cached_mask = response_logprobs(policy, prompts, responses, frozen=frozen)
        again, _ = response_logprobs(policy, prompts[::-1], responses[::-1], frozen=frozen)
    finally:
        handle.remove()
    assert torch.equal(mask, cached_mask)
    assert torch.allclose(plain, cached, atol=1e-5)
    assert torch.allclose(plain.flip(0), again, atol=1e-5)  # a row's states do not depend on its batch
    assert len(calls) == 1  # the bottom layer ran once, for every row together
    # the gradient reaches the top layer through the cached path as through the whole model
    cached.sum().backward()
    assert all(p.grad is not None for p in policy.trainable_parameters())


def test_frozen_prefix_stands_aside_for_a_policy_it_cannot_serve():
    whole = three_layers()  # every layer trains: the bottom is not frozen
    prompts, responses = rows(whole)
    frozen = FrozenPrefix()
    response_logprobs(whole, prompts, responses, frozen=frozen)
    assert frozen._rows == {}
    top = train_top_layers(three_layers(), 1)
    response_logprobs(top, prompts, responses, frozen=frozen)
    other = train_top_layers(three_layers(), 1)  # another frozen bottom: its states are not these
    assert frozen._rows and frozen.serves(top, {}) and not frozen.serves(other, {})


def test_sft_and_grpo_train_only_the_top_layers():
    policy = train_top_layers(three_layers(), 1)
    frozen_before = {n: p.detach().clone() for n, p in policy.model.named_parameters() if not p.requires_grad}
    trained_before = [p.detach().clone() for p in policy.trainable_parameters()]
    optimizer = torch.optim.AdamW(policy.trainable_parameters(), lr=1e-2)
    demos = [Demonstration("task: mine_block:oak_log", "Action: move(0, 0) and press(w)")] * 4
    step = sft_step(demos, steps=3, batch=2)
    first = step(policy, optimizer, 0, None)["loss"]
    assert step(policy, optimizer, 1, None)["loss"] < first
    reference = policy.copy()
    prompts = [policy.prompt("task: mine_block:oak_log")] * 4
    responses = [policy.encode(["Action: move(0, 0)"])[0]] * 2 + [policy.encode(["Motion: turn left"])[0]] * 2
    metrics = grpo_update(policy, optimizer, prompts, responses, torch.tensor([1.0, 1.0, -1.0, -1.0]),
                          reference=reference, minibatches=2, clip=0.2, kl_coef=0.1)  # fmt: skip
    assert {"pg_loss", "kl", "clip_frac"} <= set(metrics)
    assert all(torch.equal(p, frozen_before[n]) for n, p in policy.model.named_parameters() if not p.requires_grad)
    assert any(not torch.equal(a, b) for a, b in zip(trained_before, policy.trainable_parameters(), strict=True))


def test_frozen_prefix_keeps_the_model_dtype():
    policy = train_top_layers(three_layers(), 1)
    policy.model.to(torch.bfloat16).eval()
    prompts, responses = rows(policy)
    plain, _ = response_logprobs(policy, prompts, responses)
    cached, _ = response_logprobs(policy, prompts, responses, frozen=FrozenPrefix())
    assert cached.dtype == plain.dtype and torch.allclose(plain.float(), cached.float(), atol=5e-2)


ROWS = ["<|object_ref_start|>", "<|point_start|>"]


def row_ids(policy):
    return policy.tokenizer.convert_tokens_to_ids(ROWS)


def test_output_rows_train_and_every_other_weight_below_the_top_stays():
    policy = train_top_layers(three_layers(), 1, output_rows=ROWS)
    head, embed = policy.model.get_output_embeddings().weight, policy.model.get_input_embeddings().weight
    assert head.requires_grad and not embed.requires_grad and head.data_ptr() != embed.data_ptr()
    head_before, embed_before = head.detach().clone(), embed.detach().clone()
    optimizer = torch.optim.AdamW(optimizer_groups(policy.trainable_parameters(), 0.1), lr=1e-2)
    demos = [Demonstration("task: mine_block:oak_log", "Grounding: <|object_ref_start|> <|point_start|>")] * 4
    sft_step(demos, steps=2, batch=2)(policy, optimizer, 0, None)
    changed = (head != head_before).any(-1).nonzero().flatten().tolist()
    assert changed == sorted(row_ids(policy))  # only the named rows moved: no gradient, no weight decay elsewhere
    assert torch.equal(embed, embed_before)
    assert FrozenPrefix().serves(policy, {})  # the input side is still frozen, so the bottom runs once


def test_output_rows_survive_a_copy_and_a_reload(tmp_path: Path):
    policy = train_top_layers(three_layers(), 1, output_rows=ROWS)
    with torch.no_grad():
        policy.model.get_output_embeddings().weight[row_ids(policy)] += 1.0
    policy.save(tmp_path)
    for twin in (policy.copy(), load_policy(tmp_path)):
        head = twin.model.get_output_embeddings().weight
        assert torch.equal(head, policy.model.get_output_embeddings().weight)
        assert head.data_ptr() != twin.model.get_input_embeddings().weight.data_ptr()
        head.sum().backward()  # the gradient hook came along: only the named rows get one
        assert head.grad.abs().sum(-1).nonzero().flatten().tolist() == sorted(row_ids(twin))


def test_output_rows_are_checked():
    with pytest.raises(ValueError, match="not in the tokenizer"):
        train_top_layers(three_layers(), 1, output_rows=["<|latent_999|>"])
    with pytest.raises(ValueError, match="needs a layer count"):
        train_top_layers(three_layers(), None, output_rows=ROWS)


def test_optimizer_groups_keep_one_group_without_row_training():
    params = train_top_layers(three_layers(), 1).trainable_parameters()
    assert optimizer_groups(params, 0.01) == [{"params": params, "weight_decay": 0.01}]


def test_a_later_choice_replaces_the_row_mask():
    policy = train_top_layers(train_top_layers(three_layers(), 1, output_rows=ROWS), 1, output_rows=ROWS[:1])
    head = policy.model.get_output_embeddings().weight
    head.sum().backward()
    assert head.grad.abs().sum(-1).nonzero().flatten().tolist() == row_ids(policy)[:1]  # one mask, the latest
    head.grad = None
    train_top_layers(policy, None)  # every weight trains: every row of the head too, with weight decay
    head.sum().backward()
    assert bool((head.grad != 0).all()) and optimizer_groups([head], 0.01)[0]["params"] == [head]
