"""Every fast path accepts only what its grammar accepts, with the grammar's result (the grammars stay the truth)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from actionspaces import GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace
from actionspaces.space import SemanticError, _compiled

SPACES = [RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace(codebook_size=64, max_codes=4)]

# Fragments the grammars use, so that random texts often land near (and inside) the accepted languages.
FRAGMENTS = [
    "move", "(", ")", "19", "-3", "0", "999", "1000", ", ", ",", " and ", "press", "w", "space", "jump", "click",
    "left", "right", "no_op", "no-op", "Mine", "Kill", "move to", "move_to", "left_click", "right click", "Explore",
    "<|point_start|>", "<|point_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "oak log", " ", "  ",
    "turn", "cursor move", "forward", "back", "up", "down", "attack / mine", "use / place", "operate gui", "choose",
    "switch to hotbar ", "3", "sprint", "open inventory", "<|latent_3|>", "<|latent_70|>", "\n", "x", "０", "١",
]  # fmt: skip


def grammar_result(space, body):
    """The grammar's answer for ``body``: the action, or ``None`` when it rejects it."""
    try:
        return space.build(_compiled(type(space)).parse(body), body)
    except (UnexpectedInput, SemanticError, ValueError):
        return None


def check(space, body):
    fast = space.fast_parse(body)
    if fast is not None:
        assert fast == grammar_result(space, body), (space.name, body, fast)
    return fast is not None


@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_fast_paths_take_the_rendered_form_and_agree(space):
    rng = np.random.default_rng(0)
    taken = sum(check(space, space.render_body(space.sample(rng))) for _ in range(2000))
    assert taken >= 1000, (space.name, taken)  # the canonical form really is the fast one


# mutated renderings: actionspaces.testing.check_space's fast_path property (tests/spaces/test_contract.py)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12))
def test_fast_paths_agree_on_fragment_soup(parts):
    body = "".join(parts)
    for space in SPACES:
        check(space, body)


def test_bare_grounding_points_take_the_fast_path():
    space = GroundingSpace()
    assert space.fast_parse("move_to (372,390)") is not None
    assert space.fast_parse("move_to (372, 390)") is None  # not the common spelling: the grammar reads it
    assert space.parse("move_to (372, 390)") == space.fast_parse("move_to (372,390)")
