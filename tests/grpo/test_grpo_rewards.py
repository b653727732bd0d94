import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from actionspaces import ChainSpace, GroundingSpace, MotionSpace, RawSpace, ViewState  # noqa: E402
from actionspaces.grpo import (  # noqa: E402
    TokenCounter,
    action_match_reward,
    episode_return,
    episode_success,
    format_reward,
    parse_task,
    token_penalized_return,
)
from actionspaces.integrations.trl import (  # noqa: E402
    action_match_reward_func,
    format_reward_func,
    token_penalty_reward_func,
)
from actionspaces.integrations.verl import compute_score  # noqa: E402


@pytest.mark.parametrize(
    ("completion", "solution", "expected"),
    [
        ("Action: move(0, 0) and press(w)", "Motion: move forward", 1.0),
        ("Motion: move forward", "Action: move(0, 0) and press(w)", 1.0),
        ("Motion: turn left", "Action: move(0, 0) and press(w)", 0.0),
        ("Motion: move forward\nAction: move(0, 0) and press(s)", "Motion: move forward", 0.0),  # raw level executes
        ("Grounding: Explore", "Action: move(0, 0) and press(w)", 1.0),
        ("Action: move(0, 0) and press(", "Motion: move forward", 0.0),  # does not parse
        ("Skill: chop the oak tree", "Motion: move forward", 0.0),  # no skill controller: cannot execute
        ("", "Motion: move forward", 0.0),
    ],
)
def test_action_match_reward_across_spaces(completion, solution, expected):
    assert action_match_reward(completion, solution) == expected


def test_action_match_uses_the_view_state_for_grounding():
    # in a GUI, a point under the cursor is a click right away; with the cursor elsewhere it moves first
    click = "Grounding: Mine <|point_start|>(500,500)<|point_end|>"
    left = "Action: move(0, 0) and press() and click(left)"
    assert action_match_reward(click, left, state=ViewState(gui_open=True)) == 1.0
    assert action_match_reward(click, left, state=ViewState(gui_open=True, cursor=(100.0, 180.0))) == 0.0


def test_action_match_modes_and_tolerance():
    a, b = "Action: move(19, 0) and press()", "Action: move(0, 0) and press()"
    assert action_match_reward(a, b) == 0.0
    chain = ChainSpace([RawSpace(), MotionSpace(), GroundingSpace()])
    assert action_match_reward(a, "Action: move(20, 0) and press()", chain=chain, camera_tol_deg=0.2) == 1.0
    assert (
        action_match_reward(a, "Action: move(20, 0) and press()", mode="openha_strl") == 1.0
    )  # 2.85° vs 3° round to 3


def test_bad_reference_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="reference solution"):
        action_match_reward("Motion: jump", "Action: move(0, 0")
    with pytest.raises(ValueError, match="skill controller"):
        action_match_reward("Motion: jump", "Skill: chop the oak tree")


def test_format_reward():
    assert format_reward("Motion: turn left\nAction: move(1, 0) and press()") == 0.0
    assert format_reward("Motion: spin around\nAction: move(1, 0) and press(") == -2.0
    assert format_reward("hello", penalty=0.5) == -0.5
    with pytest.raises(ValueError):
        format_reward("Motion: jump", penalty=-1)


def test_episode_success_and_task_ids():
    info = {"mine_block": {"oak_log": 2}, "kill_entity": {}, "craft_item": {"stick": 0}}
    assert episode_success(info, "mine_block:oak_log") == 1.0
    assert episode_success(info, "craft_item:stick") == 0.0
    assert episode_success(info, "kill_entity:cow") == 0.0
    with pytest.raises(KeyError, match="no 'pickup' counters"):
        episode_success(info, "pickup:diamond")
    for bad in ("mine_block", "mine:oak_log", "mine_block:", "a:b:c"):
        with pytest.raises(ValueError):
            parse_task(bad)


def test_token_counter_with_a_trained_tokenizer_and_a_callable():
    from tiny_lm import tiny_tokenizer

    tok = tiny_tokenizer()
    counter = TokenCounter(tok)
    text = "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|>"
    assert counter(text) == len(tok.encode(text, add_special_tokens=False))
    assert counter("<|point_start|>") == 1  # special tokens are single tokens
    assert TokenCounter(len)("abcd") == 4
    assert counter.count(["Motion: jump", ""]) == [counter("Motion: jump"), 0]
    assert TokenCounter.count_ids([[1, 2, 3], [4]]) == 4
    assert (
        TokenCounter.count_ids(
            torch.ones(2, 5, dtype=torch.long), mask=torch.tensor([[1, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
        )
        == 3
    )
    with pytest.raises(ValueError, match="only 0 and 1"):
        TokenCounter.count_ids([[1, 2]], mask=[[1, 2]])
    with pytest.raises(TypeError):
        TokenCounter(42)
    with pytest.raises(TypeError):
        counter(b"bytes")  # type: ignore[arg-type]


def test_token_penalized_return():
    assert math.isclose(token_penalized_return(True, [12, 30, 8], lam=0.001), 0.95)
    assert math.isclose(token_penalized_return(0.0, 100, lam=0.01), -1.0)
    for bad in (dict(lam=-0.1), dict(lam=float("nan"))):
        with pytest.raises(ValueError, match="lam"):
            token_penalized_return(1, 10, **bad)
    with pytest.raises(ValueError, match="tokens"):
        token_penalized_return(1, [3, -1], lam=0.1)
    with pytest.raises(ValueError, match="success"):
        token_penalized_return(2.0, 1, lam=0.1)


def test_episode_return_is_the_token_penalized_return_less_the_format_penalty():
    assert math.isclose(episode_return(True, [12, 30, 8], 0), 0.95)  # CrossHA's defaults: λ 1e-3, penalty 0.1
    assert math.isclose(episode_return(0.0, [10], 3, token_penalty=0.01, format_penalty=0.5), -1.6)
    assert episode_return(1, [4], np.int64(2), token_penalty=0.0, format_penalty=0.25) == 0.5
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="unparsed"):
            episode_return(1, [4], bad)  # type: ignore[arg-type]
    for bad in (-0.1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="format_penalty"):
            episode_return(1, [4], 1, format_penalty=bad)
    with pytest.raises(ValueError, match="lam"):
        episode_return(1, [4], 1, token_penalty=-1.0)


def test_trl_reward_functions():
    reward = action_match_reward_func()
    out = reward(
        prompts=["p"] * 3,
        completions=["Action: move(0, 0) and press(w)", [{"role": "assistant", "content": "Motion: turn left"}], "x"],
        completion_ids=[[1], [2], [3]],
        solution=["Motion: move forward", "Motion: turn left", None],
        state=[None, {"gui_open": False}, None],
        trainer_state=None,
    )
    assert out == [1.0, 1.0, None]
    with pytest.raises(KeyError, match="no 'solution' column"):
        reward(prompts=["p"], completions=["Motion: jump"], completion_ids=[[1]], answer=["Motion: jump"])
    fmt = format_reward_func(penalty=0.5)
    assert fmt(prompts=["p", "p"], completions=["Motion: jump", "nonsense"]) == [0.0, -0.5]
    pen = token_penalty_reward_func(0.01)
    assert pen(prompts=["p", "p"], completions=["a", "b"], completion_ids=[[1, 2, 3], [4]]) == pytest.approx(
        [-0.03, -0.01]
    )
    assert token_penalty_reward_func(1.0, counter=TokenCounter(str.split))(completions=["a b c"]) == [-3.0]
    with pytest.raises(ValueError, match="completion_ids"):
        pen(completions=["a"])


def test_verl_compute_score():
    assert compute_score("craftworld", "Action: move(0, 0) and press(w)", "Motion: move forward") == 1.0
    assert compute_score("craftworld", "Motion: turn left", "Motion: move forward", {"mode": "openha_strl"}) == 0.0
    click = "Grounding: Mine <|point_start|>(500,500)<|point_end|>"
    left = "Action: move(0, 0) and press() and click(left)"
    assert compute_score("craftworld", click, left, {"state": {"gui_open": True}}) == 1.0
    assert compute_score("craftworld", click, left, {"state": {"gui_open": True, "cursor": (100.0, 180.0)}}) == 0.0
    with pytest.raises(ValueError, match="mode"):
        compute_score("craftworld", "Motion: jump", "Motion: jump", {"mode": "exact"})
