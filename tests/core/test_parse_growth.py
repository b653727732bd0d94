"""Parsing is linear in the input: the adversarial shapes grown 8× take about 8× as long, never 64×."""

import contextlib
import time

import pytest

import actionspaces as asp
from actionspaces import ChainSpace, ParseError
from actionspaces.chain import DEFAULT_MAX_RESPONSE_LENGTH
from conftest import ALL_SPACES

RT = "<|reserved_special_token_178|>"


def grown(unit, size, head="", tail=""):
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


SHAPES = {
    "spaces before junk": lambda n: grown(" ", n, "Action: no_op", "x"),
    "unclosed tags": lambda n: grown("<raw>", n),
    "reserved openers": lambda n: grown(RT, n, "<raw></raw>"),
    "failing levels": lambda n: grown("Action: x\n", n),
    "valid levels": lambda n: grown("Action: no_op\n", n),
    "newline and spaces": lambda n: grown(" ", n, "Action: no_op\n", "x"),
    "stray closing tags": lambda n: grown("</grounding>", n),
    "wrapper tails": lambda n: grown("<|im_end|>", n, "Action: no_op"),
    "prose before a tag": lambda n: grown(
        "The cursor is at cursor(5,3). ", n, "", "<grounding>move_to (1,2)</grounding>"
    ),
    "open parentheses": lambda n: grown("(", n, "Grounding: Mine "),
    "separators": lambda n: grown("\n, ", n),
}


def best_time(fn, text, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_time_grows_linearly_below_the_cap(shape):
    make = SHAPES[shape]
    small, large = 2_000, 16_000
    assert len(make(large)) <= DEFAULT_MAX_RESPONSE_LENGTH
    t_small = max(best_time(asp.parse, make(small)), 2e-4)  # a floor: tiny times are all noise
    t_large = best_time(asp.parse, make(large))
    # linear gives about 8; the quadratic shapes of before gave 40-64
    assert t_large / t_small < 24, (shape, t_small, t_large)


MEGABYTES = {
    **{name: make(1_000_000) for name, make in SHAPES.items()},
    "garbage": "x" * 1_000_000,
    "and-separators": "Action: " + "and " * 250_000,
    "comma-separators": "Action: move(1, 2)" + ", " * 500_000,
    "motion components": "Motion: " + "turn left, " * 90_000,
    "point openers": "Grounding: " + "<|point_start|>" * 60_000,
}


@pytest.mark.parametrize("shape", MEGABYTES, ids=list(MEGABYTES))
def test_a_megabyte_is_answered_at_once_by_every_parser(shape):
    text = MEGABYTES[shape]
    t0 = time.perf_counter()
    chain = ChainSpace().parse(text)
    for space in ALL_SPACES:
        with contextlib.suppress(ParseError):
            space.parse(text)
    elapsed = time.perf_counter() - t0
    assert not chain.ok and "more than max_length=32768" in chain.errors[0].message
    assert chain.errors[0].position == DEFAULT_MAX_RESPONSE_LENGTH
    assert elapsed < 0.25, (shape, elapsed)  # about 5 ms on an idle core; generous for a loaded CI machine


def test_the_worst_input_below_the_cap_is_answered_within_50_ms_on_an_idle_core():
    worst = max(best_time(asp.parse, make(DEFAULT_MAX_RESPONSE_LENGTH)) for make in SHAPES.values())
    assert worst < 0.2, worst  # the target is 50 ms; the bound leaves room for a loaded machine


def test_levels_beyond_max_levels_are_reported_not_parsed():
    text = "Action: no_op\n" * 70
    chain = asp.parse(text)
    assert len(chain.levels) == 64 and not chain.ok
    assert "more than max_levels=64" in chain.chain_errors[0].message
    assert chain.chain_errors[0].position == 64 * len("Action: no_op\n")
    tagged = asp.parse("<raw>forward</raw>" * 70)
    assert len(tagged.levels) == 64 and "max_levels" in tagged.chain_errors[0].message
    small = ChainSpace(max_length=100, max_levels=2)
    assert "max_length=100" in small.parse("x" * 101).errors[0].message
    with pytest.raises(ValueError, match="max_levels"):
        ChainSpace(max_levels=0)
