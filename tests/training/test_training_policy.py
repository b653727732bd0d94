"""actionspaces.training.policy and .tiny: a Hugging Face policy that samples and scores responses."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from actionspaces.training.policy import (  # noqa: E402
    SPECIAL_TOKENS,
    check_checkpoint,
    load_policy,
    response_logprobs,
    sample,
)
from actionspaces.training.tiny import build_tiny_policy  # noqa: E402

CORPUS = ["task: mine_block:oak_log", "Action: move(0, 0) and press(w)", "Motion: turn left"] * 20


@pytest.fixture(scope="module")
def policy():
    return build_tiny_policy(CORPUS, extra_tokens=["<|latent_0|>"], vocab_size=300, hidden_size=16, layers=1, heads=2)


def test_tiny_policy_has_every_special_token_as_one_token(policy):
    vocab = policy.tokenizer.get_vocab()
    assert all(t in vocab for t in [*SPECIAL_TOKENS, "<|latent_0|>"])
    assert policy.encode(["<|point_start|>(1,2)<|point_end|>"])[0][0] == vocab["<|point_start|>"]
    with pytest.raises(ValueError, match="multiple of heads"):
        build_tiny_policy(CORPUS, hidden_size=10, heads=4)


def test_sampled_responses_are_scored_under_the_distribution_they_came_from(policy):
    prompts = [policy.prompt("task: mine_block:oak_log")] * 3
    torch.manual_seed(0)
    responses = sample(policy, prompts, 1.0, max_new_tokens=6, batch_size=2)
    assert len(responses) == 3 and all(1 <= len(r) <= 6 for r in responses)
    logp, mask = response_logprobs(policy, policy.encode_prompts(prompts), responses)
    assert int(mask.sum()) == sum(map(len, responses))
    assert bool((logp[mask.bool()] <= 0).all()) and bool((logp[~mask.bool()] == 0).all())
    greedy = sample(policy, prompts[:2], 0.0, max_new_tokens=6)
    assert greedy[0] == greedy[1]  # temperature 0 is deterministic
    with pytest.raises(ValueError, match="temperature"):
        sample(policy, prompts, -1.0, max_new_tokens=4)
    with pytest.raises(ValueError, match="max_new_tokens"):
        sample(policy, prompts, 1.0, max_new_tokens=0)


def test_response_logprobs_equal_the_whole_pass_at_the_response_positions(policy):
    # prompts of different lengths, responses of different lengths (one empty): the head runs at the
    # response positions only, and must give what log_softmax over every position's logits gives there
    prompts = policy.encode_prompts([policy.prompt("task: mine_block:oak_log"), policy.prompt("task: kill"),
                                     policy.prompt("task: craft_item:stick, inventory: plank plank plank")])  # fmt: skip
    responses = [policy.encode(["Skill: mine oak log"])[0], [], policy.encode(["Motion: turn left"])[0]]
    logp, mask = response_logprobs(policy, prompts, responses)
    for i, (p, r) in enumerate(zip(prompts, responses, strict=True)):
        with torch.no_grad():
            whole = torch.log_softmax(policy.model(torch.tensor([p.ids + r])).logits[0].float(), -1)
        expected = whole[len(p.ids) - 1 : len(p.ids) - 1 + len(r)].gather(-1, torch.tensor(r)[:, None])[:, 0]
        torch.testing.assert_close(logp[i, len(p.ids) - 1 : len(p.ids) - 1 + len(r)], expected, atol=1e-5, rtol=0)
        assert int(mask[i].sum()) == len(r)
    assert bool((logp[~mask.bool()] == 0).all())
    logp.sum().backward()
    assert policy.model.get_output_embeddings().weight.grad is not None
    policy.model.zero_grad()


def test_a_text_policy_refuses_a_frame(policy):
    import numpy as np

    with pytest.raises(ValueError, match="text-only"):
        policy.prompt("obs", np.zeros((8, 8, 3), np.uint8))


def test_load_policy_adds_missing_special_tokens_and_names_what_is_wrong(policy, tmp_path: Path):
    policy.model.save_pretrained(tmp_path)
    policy.tokenizer.save_pretrained(tmp_path)
    loaded = load_policy(tmp_path, extra_tokens=["<|latent_0|>", "<|latent_1|>"])
    assert "<|latent_1|>" in loaded.tokenizer.get_vocab()
    assert loaded.model.get_input_embeddings().weight.shape[0] == len(loaded.tokenizer)
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        check_checkpoint(tmp_path / "absent", vision=False)
    with pytest.raises(ValueError, match="needs a Qwen2-VL checkpoint"):
        check_checkpoint(tmp_path, vision=True)


def test_a_system_prompt_replaces_the_templates_default_and_survives_copy_and_reload(tmp_path: Path):
    from actionspaces.training.policy import set_system_prompt

    policy = build_tiny_policy(CORPUS, vocab_size=300, hidden_size=16, layers=1, heads=2)
    # a template with a default system line, as SmolLM2's and Qwen2's have
    policy.tokenizer.chat_template = (
        "{% if messages[0].role != 'system' %}<|im_start|>system\nYou are a helpful bot.<|im_end|>\n{% endif %}"
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    default = policy.prompt("task: mine").text
    assert "You are a helpful bot." in default
    set_system_prompt(policy, "")
    empty = policy.prompt("task: mine").text
    assert empty == "<|im_start|>system\n<|im_end|>\n<|im_start|>user\ntask: mine<|im_end|>\n<|im_start|>assistant\n"
    assert len(policy.encode([empty])[0]) < len(policy.encode([default])[0])
    assert policy.copy().prompt("task: mine").text == empty
    policy.save(tmp_path / "ckpt")
    assert load_policy(tmp_path / "ckpt").prompt("task: mine").text == empty
    set_system_prompt(policy, None)
    assert policy.prompt("task: mine").text == default
    with pytest.raises(TypeError, match="a system message is a string or None, got int"):
        set_system_prompt(policy, 3)  # type: ignore[arg-type]
