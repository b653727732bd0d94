"""Properties of the parsers on any text: an action or a ParseError, never a crash; chains round-trip."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actionspaces import ChainSpace, ParseError
from conftest import ALL_SPACES

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
# Text built from the languages' own pieces finds far more interesting failures than random unicode.
FRAGMENTS = st.sampled_from(
    [
        "Action:", "Motion:", "Grounding:", "Skill:", "Latent:", "move", "press", "click", "(", ")", ",", ", ",
        " and ", "'", '"', "=", "dx", "w", "left", "right", "up", "1", "-3", "0.5", "1e3", "nan", "no_op", "no-op",
        "turn", "cursor", "attack / mine", "switch to hotbar", "<|point_start|>", "<|point_end|>", "(512,300)",
        "<|object_ref_start|>", "<|object_ref_end|>", "Mine", "<|latent_3|>", "<|reserved_special_token_178|>",
        "<|reserved_special_token_204|>", "<|reserved_special_token_179|>", "\n", "\n, ", " ", "**", "：",
        "<|im_start|>assistant\n", "<|im_end|>", "keyDown", "keys=", "keyboard.w",
    ]
)  # fmt: skip
GRAMMAR_SOUP = st.lists(FRAGMENTS, max_size=25).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=200), GRAMMAR_SOUP)


# parse(render(a)) == a for every space: check_space's round_trip property (tests/spaces/test_contract.py)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT)
def test_any_text_gives_an_action_or_a_parse_error(text):
    for space in ALL_SPACES:
        try:
            action = space.parse(text)
        except ParseError as err:
            assert 0 <= err.position <= len(err.text)
            assert err.text == text
            str(err)  # the message with its caret must render
        else:
            assert space.contains(action)
            assert space.parse(space.render(action)) == action


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_chain_never_raises_and_positions_are_in_range(text):
    chain = ChainSpace().parse(text)
    for err in chain.errors:
        assert 0 <= err.position <= len(text)
    for level in chain.levels:
        assert (level.action is None) != (level.error is None)
        assert 0 <= level.span[0] <= level.body_span[0] <= level.body_span[1] <= len(text)


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS)
def test_chain_round_trip(seed):
    cs = ChainSpace()
    sampled = cs.sample(np.random.default_rng(seed))
    assert sampled.ok and cs.contains(sampled), sampled.errors
    text = cs.render(sampled)
    chain = cs.parse(text)
    assert chain.ok, chain.errors
    assert [lv.action for lv in chain.levels] == [lv.action for lv in sampled.levels]
    assert cs.render(chain) == text
