"""The grammars as vLLM and SGLang take them: llguidance, as each engine calls it, compiles every one."""

from __future__ import annotations

import pytest

llguidance = pytest.importorskip("llguidance")
pytest.importorskip("transformers")
from llguidance import hf as llguidance_hf  # noqa: E402 - after the skips

from actionspaces import ChainSpace, GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace  # noqa: E402
from actionspaces.decoding import ENGINES, request_body, serving_grammar  # noqa: E402
from tiny_lm import tiny_tokenizer  # noqa: E402

TARGETS = [
    ("raw", {}),
    ("grounding", {}),
    ("motion", {}),
    ("language", {}),
    ("latent", {}),
    ("chain", {}),
    ("chain", {"single": True}),
    ("chain", {"spaces": ["raw", "grounding"], "single": True}),
    ("chain", {"spaces": ["motion", "raw"]}),
]
# What each engine's llguidance backend does with the grammar of a request (vLLM: a "grammar" request,
# which llguidance reads as Lark or GBNF; SGLang: an "ebnf" request carrying the %llguidance directive).
CONVERSION = {"vllm": "grammar", "vllm-legacy": "grammar", "sglang": "ebnf"}
FIELD = {"vllm": lambda b: b["structured_outputs"]["grammar"], "vllm-legacy": lambda b: b["guided_grammar"],
         "sglang": lambda b: b["ebnf"]}  # fmt: skip


@pytest.fixture(scope="module")
def lltokenizer():
    spaces = [RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace()]
    corpus = [space.render(space.sample(seed)) for space in spaces for seed in range(30)]
    latent = [f"<|latent_{i}|>" for i in range(512)]
    tokenizer = tiny_tokenizer(extra_specials=["<|box_start|>", "<|box_end|>", *latent], corpus=corpus)
    return tokenizer, llguidance_hf.from_tokenizer(tokenizer)


def matcher_for(lltokenizer, engine, grammar):
    serialized = llguidance.grammar_from(CONVERSION[engine], grammar)
    failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(serialized, lltokenizer)
    assert not failed, messages
    matcher = llguidance.LLMatcher(lltokenizer, serialized)
    assert not matcher.is_error(), matcher.get_error()
    return matcher


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("target", "options"), TARGETS, ids=str)
def test_llguidance_compiles_every_exported_grammar(lltokenizer, engine, target, options):
    tokenizer, lltok = lltokenizer
    body = request_body(target, engine=engine, **options)
    grammar = FIELD[engine](body)
    assert grammar == serving_grammar(target, engine=engine, **options)
    matcher = matcher_for(lltok, engine, grammar)
    # and it accepts what the space renders (the canonical output)
    chain = ChainSpace()
    names = options.get("spaces") or ([target] if target != "chain" else list(chain.spaces))
    text = chain.spaces[names[-1]].render(chain.spaces[names[-1]].sample(3))
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert matcher.consume_tokens(ids), (text, matcher.get_error())
    assert matcher.is_accepting(), text


def test_sglang_requests_carry_the_llguidance_directive():
    assert request_body("raw", engine="sglang")["ebnf"].startswith("%llguidance {}\nstart:")
    assert "%llguidance" not in request_body("raw", engine="vllm")["structured_outputs"]["grammar"]


def test_bad_engines_and_spaces_are_named():
    with pytest.raises(ValueError, match="unknown engine 'tgi'"):
        request_body("raw", engine="tgi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown action space 'nope'"):
        request_body("nope", engine="vllm")
