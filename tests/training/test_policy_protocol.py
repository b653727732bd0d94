"""A model of the user's own plugs into the stages through TrainablePolicy: nothing there needs the HF Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from actionspaces.envs import CraftWorld, TextActionEnv  # noqa: E402
from actionspaces.training import create_run  # noqa: E402
from actionspaces.training.policy import Policy  # noqa: E402
from actionspaces.training.protocol import TrainablePolicy  # noqa: E402
from actionspaces.training.rollouts import play_policy  # noqa: E402
from actionspaces.training.stages import TrainingRun, train_stage  # noqa: E402
from actionspaces.training.tiny import build_tiny_policy  # noqa: E402
from actionspaces.training.updates import Demonstration, grpo_update, sft_step  # noqa: E402

CORPUS = ["task: mine_block:oak_log", "Action: move(0, 0) and press(w)", "Motion: turn left"] * 20


class Served:
    """A policy that is not the library's class: every call goes through the protocol's methods only."""

    def __init__(self, inner: Policy, calls: list[str]) -> None:
        self.inner, self.calls = inner, calls
        self.device, self.constraint = inner.device, None

    def _log(self, name: str) -> None:
        self.calls.append(name)

    @property
    def eos_token_id(self) -> int:
        return self.inner.eos_token_id

    def prompt(self, observation: str, frame: Any = None) -> Any:
        return self.inner.prompt(observation, frame)

    def encode(self, texts: Any) -> list[list[int]]:
        return self.inner.encode(texts)

    def encode_prompts(self, prompts: Any) -> Any:
        return self.inner.encode_prompts(prompts)

    def decode(self, ids: Any) -> str:
        return self.inner.decode(ids)

    def sample(self, prompts: Any, temperature: float, *, max_new_tokens: int, batch_size: int = 128) -> Any:
        self._log("sample")
        return self.inner.sample(prompts, temperature, max_new_tokens=max_new_tokens, batch_size=batch_size)

    def response_logprobs(self, prompts: Any, responses: Any, response_masks: Any = None, frozen: Any = None) -> Any:
        self._log("response_logprobs")
        return self.inner.response_logprobs(prompts, responses, response_masks)

    def train(self, mode: bool = True) -> None:
        self.inner.train(mode)

    def trainable_parameters(self) -> list[Any]:
        return self.inner.trainable_parameters()

    def with_constraint(self, constraint: Any) -> Served:
        return self

    def copy(self) -> Served:
        return Served(self.inner.copy(), self.calls)

    def save(self, directory: Any) -> None:
        self._log("save")
        self.inner.save(directory)


def test_the_stages_run_a_policy_that_only_implements_the_protocol(tmp_path: Path) -> None:
    calls: list[str] = []
    served = Served(build_tiny_policy(CORPUS, vocab_size=300, hidden_size=16, layers=1, heads=2), calls)
    assert isinstance(served, TrainablePolicy) and not isinstance(served, Policy)
    demos = [Demonstration("task: mine_block:oak_log", "Action: move(0, 0) and press(w)")] * 4
    create_run(tmp_path / "r")
    run = TrainingRun(tmp_path / "r", load=lambda d: served)
    trained = train_stage(run, "sft", served, 2, lr=1e-2, step=sft_step(demos, steps=2, batch=2), seed=0)
    losses = [m["loss"] for m in run.metrics()]
    assert isinstance(trained, Served) and losses[1] < losses[0]
    prompts = [served.prompt("task: mine_block:oak_log")] * 4
    responses = trained.sample(prompts, 1.0, max_new_tokens=6)
    grpo_update(trained, torch.optim.AdamW(trained.trainable_parameters(), lr=1e-3), prompts, responses,
                torch.tensor([1.0, -1.0, 1.0, -1.0]), reference=served, minibatches=2, clip=0.2, kl_coef=0.1)  # fmt: skip
    make_env = lambda task, seed: TextActionEnv(CraftWorld(task, max_ticks=20), max_calls=2)  # noqa: E731
    episodes = play_policy(trained, [("mine_block:oak_log", 0)], make_env, temperature=1.0, max_new_tokens=6)
    assert episodes[0].calls == 2
    assert {"sample", "response_logprobs", "save"} <= set(calls)
