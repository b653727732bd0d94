"""Grammar-constrained decoding: grammars, the logits processor, masked log-probs, and bad input."""

from __future__ import annotations

import pytest

pytest.importorskip("llguidance")
torch = pytest.importorskip("torch")

from actionspaces import (  # noqa: E402 - after the skips
    ActionSpace,
    ChainSpace,
    GroundingSpace,
    LanguageSpace,
    LatentSpace,
    MotionSpace,
    RawSpace,
)
from actionspaces.decoding import (  # noqa: E402
    GrammarConstraint,
    allowed_tokens,
    generation_grammar,
    masked_token_logprobs,
    special_tokens,
)
from actionspaces.envs.craftworld import TASKS, label_step, record_expert  # noqa: E402
from tiny_lm import tiny_model, tiny_tokenizer  # noqa: E402

CODEBOOK = 64
SPACES = [RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace(codebook_size=CODEBOOK)]
CHAIN = ChainSpace(SPACES)
SAMPLES = 256
CHAT = ["<|im_start|>", "<|im_end|>", "<|box_start|>", "<|box_end|>"]


@pytest.fixture(scope="module")
def tokenizer():
    corpus = [space.render(space.sample(seed)) for space in SPACES for seed in range(40)]
    latent = [f"<|latent_{i}|>" for i in range(CODEBOOK)]
    return tiny_tokenizer(extra_specials=CHAT + latent, corpus=corpus)


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_model(tokenizer, seed=1, max_positions=1024).eval()


def sample_constrained(model, tokenizer, constraint, n=SAMPLES, max_new_tokens=900, seed=0):
    """n untrained-model samples under the constraint: (texts, generated ids, applied masks)."""
    torch.manual_seed(seed)
    prompt = tokenizer(["task: mine_block:oak_log. Next action?"] * n, return_tensors="pt")
    processor = constraint.logits_processor()
    with torch.no_grad():
        out = model.generate(
            **prompt,
            do_sample=True,
            temperature=1.0,
            top_k=0,
            max_new_tokens=max_new_tokens,
            logits_processor=[processor],
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    generated = out[:, prompt["input_ids"].shape[1] :]
    texts = []
    for row in generated.tolist():
        end = row.index(tokenizer.eos_token_id) if tokenizer.eos_token_id in row else len(row)
        texts.append(tokenizer.decode(row[:end], skip_special_tokens=False))
    return texts, generated, processor.bitmasks


# --------------------------------------------------------------------------------------- 256 of 256 parse
@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_every_constrained_sample_parses(space, model, tokenizer):
    constraint = GrammarConstraint.for_space(tokenizer, space)
    texts, _, _ = sample_constrained(model, tokenizer, constraint)
    failures = []
    for text in texts:
        try:
            space.parse(text)
        except Exception as err:
            failures.append((text, err))
    assert not failures, failures[:3]
    assert len(set(texts)) > SAMPLES // 4  # an untrained model under the mask explores, it is not stuck


def test_every_constrained_chain_parses(model, tokenizer):
    constraint = GrammarConstraint.for_space(tokenizer, CHAIN)
    texts, _, _ = sample_constrained(model, tokenizer, constraint)
    chains = [CHAIN.parse(text) for text in texts]
    bad = [(c.text, c.errors) for c in chains if not c.ok]
    assert not bad, bad[:3]
    levels = {len(c.levels) for c in chains}
    assert max(levels) > 1  # Chain of Action: several levels, each in the fixed order
    assert {s for c in chains for s in c.spaces} == {s.name for s in SPACES}


def test_chain_restricted_to_a_subset_of_spaces(model, tokenizer):
    constraint = GrammarConstraint.for_space(tokenizer, CHAIN, spaces=["raw", "grounding"], single=True)
    texts, _, _ = sample_constrained(model, tokenizer, constraint, n=64)
    chains = [CHAIN.parse(text) for text in texts]
    assert all(c.ok and len(c.levels) == 1 for c in chains), [c.text for c in chains if not c.ok][:3]
    assert {c.spaces[0] for c in chains} == {"raw", "grounding"}


# --------------------------------------------------------------------------------------- masks and log-probs
def test_masked_logprobs_are_the_renormalised_sampling_distribution(model, tokenizer):
    constraint = GrammarConstraint.for_space(tokenizer, "raw")
    prompt = tokenizer(["task: mine_block:oak_log. Next action?"] * 4, return_tensors="pt")
    _, generated, masks = sample_constrained(model, tokenizer, constraint, n=4, max_new_tokens=200)
    # the masks recorded while sampling are the ones a replay of the responses computes
    replayed = constraint.replay_masks(generated.tolist())
    responses = [row.tolist() for row in generated]
    for row, response in enumerate(responses):
        stop = response.index(tokenizer.eos_token_id) + 1
        assert torch.equal(replayed[row, :stop], masks[row, :stop])
    full = torch.cat([prompt["input_ids"], generated], dim=1)
    with torch.no_grad():
        logits = model(full).logits[:, prompt["input_ids"].shape[1] - 1 : -1]
    got = masked_token_logprobs(logits, generated, masks)
    allowed = allowed_tokens(masks, logits.shape[-1])
    expected = torch.log_softmax(logits.masked_fill(~allowed, float("-inf")), -1).gather(-1, generated[..., None])[
        ..., 0
    ]
    torch.testing.assert_close(got, expected)
    unmasked = torch.log_softmax(logits, -1).gather(-1, generated[..., None])[..., 0]
    assert bool((got >= unmasked - 1e-6).all()) and bool((got > unmasked + 1e-3).any())


def test_masked_logprobs_reject_a_token_outside_the_mask():
    mask = torch.tensor([[[0b0011, 0]]], dtype=torch.int32)
    with pytest.raises(ValueError, match="outside its grammar mask"):
        masked_token_logprobs(torch.zeros(1, 1, 40), torch.tensor([[2]]), mask)
    with pytest.raises(ValueError, match="shape"):
        masked_token_logprobs(torch.zeros(1, 1, 40), torch.tensor([[1, 1]]), mask)
    with pytest.raises(TypeError, match="int32"):
        allowed_tokens(mask.long(), 40)


def test_allowed_tokens_unpacks_bits_and_forbids_ids_past_the_mask():
    words = torch.tensor([-1, 1], dtype=torch.int32)  # ids 0..31, then id 32
    allowed = allowed_tokens(words, 70)
    assert allowed[:33].all() and not allowed[33:].any()


# --------------------------------------------------------------------------------------- the grammars
def test_expert_labels_are_inside_the_generation_grammars(tokenizer):
    """What SFT teaches (the CraftWorld labellers' text) is never masked away by the constraint."""
    constraints = {s.name: GrammarConstraint.for_space(tokenizer, s) for s in SPACES}
    checked = 0
    for task in TASKS[::8]:
        steps = record_expert(task, seed=0, max_ticks=300)
        for t in range(0, len(steps), 7):
            for name, label in label_step(steps, t).items():
                if name in constraints:
                    assert constraints[name].accepts(label.text), label.text
                    checked += 1
    assert checked > 50


def test_special_tokens_are_single_tokens_of_the_grammar(tokenizer):
    constraint = GrammarConstraint.for_space(tokenizer, "grounding")
    text = "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(512,300)<|point_end|>"
    assert constraint.accepts(text)
    # the marker spelled out in ordinary tokens is not the special token
    spelled = tokenizer.encode("Grounding: Mine ") + tokenizer.encode("<|") + tokenizer.encode("point_start|>")
    assert constraint.matcher().try_consume_tokens(spelled) < len(spelled)
    assert "<|object_ref_start|>" in special_tokens(constraint.grammar)


@pytest.mark.parametrize(
    "text",
    [
        "Action: move(1200, 0) and press()",  # beyond the per-tick camera bound
        "Action: move(0, 0) and press(w, w)",  # a key twice
        "Action: move(0, 0) and press(x)",  # unknown key
        "Motion: turn left, attack / mine, operate gui",  # world and GUI words mixed
        "Motion: sprint, move forward",  # out of the encoder's order
        "Grounding: Mine <|point_start|>(1000,3)<|point_end|>",  # off the grid
        "Skill: mine: oak log",  # a colon would start a level inside a chain
    ],
)
def test_the_grammars_exclude_what_does_not_parse_or_is_not_canonical(text, tokenizer):
    space = next(s for s in SPACES if text.startswith(s.prefix))
    assert not GrammarConstraint.for_space(tokenizer, space).accepts(text)


def test_latent_grammar_follows_the_codebook():
    grammar = generation_grammar(LatentSpace(codebook_size=3, num_codes=2))
    assert "latent_code~2..2" in grammar
    assert special_tokens(grammar) == ["<|latent_0|>", "<|latent_1|>", "<|latent_2|>"]


# --------------------------------------------------------------------------------------- bad input
def test_bad_grammar_arguments_are_named():
    with pytest.raises(ValueError, match="unknown action space 'rawr'"):
        generation_grammar("rawr")
    with pytest.raises(ValueError, match="restrict a chain"):
        generation_grammar("raw", spaces=["raw"])
    with pytest.raises(ValueError, match=r"unknown space\(s\) \['vision'\]"):
        generation_grammar("chain", spaces=["raw", "vision"])
    with pytest.raises(TypeError, match="sequence of space names"):
        generation_grammar("chain", spaces="raw")
    with pytest.raises(ValueError, match="twice"):
        generation_grammar("chain", spaces=["raw", "raw"])
    with pytest.raises(ValueError, match="at least one"):
        generation_grammar("chain", spaces=[])


def test_custom_space_needs_generation_rules():
    class Bare(ActionSpace):  # a user's space: no built-in generation grammar
        name = "bare"
        prefix = "Bare:"
        grammar_name = "language"
        action_type = LanguageSpace.action_type
        render_body = canonicalize = sample = None

    class FasterRaw(RawSpace):  # a subclass of a built-in space keeps its grammar
        pass

    assert generation_grammar(FasterRaw()) == generation_grammar("raw")
    with pytest.raises(TypeError, match="generation_rules"):
        generation_grammar(Bare())
    Bare.generation_rules = lambda self: 'bare: "x" | "y"'
    assert generation_grammar(Bare()).startswith('start: "Bare: " bare')
    Bare.generation_rules = lambda self: 'wrong: "x"'
    with pytest.raises(ValueError, match="defining 'bare'"):
        generation_grammar(Bare())


def test_tokenizer_without_the_special_tokens_is_refused():
    plain = tiny_tokenizer()  # no latent codes
    with pytest.raises(ValueError, match=r"lacks 64 special token\(s\).*<\|latent_0\|>"):
        GrammarConstraint.for_space(plain, LatentSpace(codebook_size=CODEBOOK))
    with pytest.raises(ValueError, match="does not compile"):
        GrammarConstraint(plain, 'start: "a" undefined_rule')


def test_a_processor_is_for_one_generate_call(tokenizer):
    constraint = GrammarConstraint.for_space(tokenizer, "raw")
    processor = constraint.logits_processor()
    scores = torch.zeros(2, len(tokenizer))
    processor(torch.zeros(2, 3, dtype=torch.long), scores)
    with pytest.raises(ValueError, match="batch changed"):
        processor(torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, len(tokenizer)))
    with pytest.raises(ValueError, match="grew by more than one"):
        processor(torch.zeros(2, 6, dtype=torch.long), scores)
    bad = tokenizer.convert_tokens_to_ids("<|latent_3|>")
    with pytest.raises(ValueError, match=r"row 0: token .*latent_3.* is not allowed"):
        processor(torch.full((2, 4), bad, dtype=torch.long), scores)
