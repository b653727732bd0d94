"""The rewards only parse and compare: they, the TRL reward functions and verl's compute_score need no torch."""

import importlib.util
import subprocess
import sys
import textwrap

import actionspaces.integrations.verl as verl_integration


def test_rewards_import_and_score_with_torch_unimportable():
    script = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any import of torch now raises ImportError
        from actionspaces.integrations.verl import compute_score
        from actionspaces.integrations.trl import action_match_reward_func, format_reward_func, token_penalty_reward_func
        from actionspaces.rewards import action_match_reward, episode_success, format_reward
        from actionspaces.token_cost import TokenCounter, token_penalized_return
        import numpy as np
        assert compute_score("craftworld", "Action: move(0, 0) and press(w)", "Motion: move forward") == 1.0
        reward = action_match_reward_func()
        assert reward(prompts=["p"], completions=["Skill: dance"], completion_ids=[[1]], solution=["Motion: jump"]) == [0.0]
        assert format_reward_func()(completions=["Action: press("]) == [-1.0]
        assert token_penalty_reward_func(0.5)(completions=["x"], completion_ids=[[1, 2]]) == [-1.0]
        assert TokenCounter.count_ids(np.array([[1, 2, 0]]), mask=np.array([[1, 1, 0]])) == 2
        print("ok", "torch" in sys.modules and sys.modules["torch"] is None)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "True"]


def test_verl_loads_compute_score_from_the_file_path_as_its_loader_does():
    # verl's custom-reward loader: a file path becomes a module of its own (not part of the package)
    path = verl_integration.__file__
    spec = importlib.util.spec_from_file_location("custom_module", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["custom_module"] = module
    try:
        spec.loader.exec_module(module)
        assert module.compute_score("x", "Action: move(0, 0) and press(w)", "Action: move(0, 0) and press(w)") == 1.0
    finally:
        del sys.modules["custom_module"]


def test_grpo_still_re_exports_the_rewards():
    import pytest

    pytest.importorskip("torch")
    from actionspaces import grpo, rewards, token_cost

    assert grpo.action_match_reward is rewards.action_match_reward and grpo.TokenCounter is token_cost.TokenCounter
