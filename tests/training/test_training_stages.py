"""actionspaces.training.stages and .updates: stages that resume exactly, the SFT step and the GRPO update."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from actionspaces.training import create_run  # noqa: E402
from actionspaces.training.policy import load_policy, response_logprobs  # noqa: E402
from actionspaces.training.stages import TrainingRun, seed_iteration, train_stage  # noqa: E402
from actionspaces.training.tiny import build_tiny_policy  # noqa: E402
from actionspaces.training.updates import Demonstration, grpo_update, sft_step  # noqa: E402

CORPUS = ["observe the tree", "Action: move(0, 0) and press(w)", "Motion: turn left"] * 20
DEMOS = [Demonstration("observe the tree", "Motion: turn left"), Demonstration("observe", "Action: move(0, 0)")]


@pytest.fixture(scope="module")
def policy():
    return build_tiny_policy(CORPUS, vocab_size=300, hidden_size=16, layers=1, heads=2)


def _run(root: Path, attached: list[Path] | None = None) -> TrainingRun:
    attach = None if attached is None else attached.append
    return TrainingRun(create_run(root), load=load_policy, attach=attach, echo=lambda line: None)


def _weights(policy) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in policy.model.parameters()])


def test_sft_step_lowers_the_response_loss(policy):
    trained = policy.copy()
    step = sft_step(DEMOS, steps=15, batch=4)
    optimizer = torch.optim.AdamW(trained.model.parameters(), lr=1e-2)
    seed_iteration(0, "sft", 0)
    first = step(trained, optimizer, 0, None)["loss"]
    last = step(trained, optimizer, 1, None)["loss"]
    assert last < first
    with pytest.raises(ValueError, match="at least one example"):
        sft_step([], steps=1, batch=1)
    with pytest.raises(ValueError, match="steps and batch"):
        sft_step(DEMOS, steps=0, batch=1)


def test_a_killed_stage_resumes_to_the_weights_and_metrics_of_an_uninterrupted_one(policy, tmp_path: Path):
    step = sft_step(DEMOS, steps=2, batch=2)
    whole = _run(tmp_path / "whole")
    straight = train_stage(whole, "sft", policy, 3, lr=1e-2, step=step, seed=7)

    attached: list[Path] = []
    killed = _run(tmp_path / "killed", attached)
    with pytest.raises(KeyboardInterrupt):  # the run dies after two of three iterations
        train_stage(killed, "sft", policy, 3, lr=1e-2, step=_killed_at(2, sft_step(DEMOS, steps=2, batch=2)), seed=7)
    assert len(attached) == 2  # the attachment is written into every checkpoint
    assert killed.resume("sft").progress == {"iteration": 2, "done": False}
    resumed = train_stage(killed, "sft", policy, 3, lr=1e-2, step=sft_step(DEMOS, steps=2, batch=2), seed=7)
    assert torch.allclose(_weights(resumed), _weights(straight))
    assert [m["iteration"] for m in killed.metrics()] == [0, 1, 2]
    assert killed.metrics() == whole.metrics()
    # a finished stage returns its checkpoint without training
    again = train_stage(killed, "sft", policy, 3, lr=1e-2, step=lambda *a: pytest.fail("trained again"), seed=7)
    assert torch.allclose(_weights(again), _weights(straight))
    assert torch.allclose(_weights(policy), _weights(build_tiny_policy(CORPUS, vocab_size=300, hidden_size=16,
                                                                       layers=1, heads=2)))  # fmt: skip


def test_a_damaged_checkpoint_falls_back_to_the_previous_one_and_is_named(policy, tmp_path: Path):
    run = _run(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        train_stage(run, "sft", policy, 3, lr=1e-2, step=_killed_at(2, sft_step(DEMOS, steps=1, batch=2)), seed=0)
    (run.checkpoints.path("sft") / "model.safetensors").write_bytes(b"torn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = run.resume("sft")
    assert resumed is not None and resumed.progress == {"iteration": 1, "done": False}
    assert resumed.optimizer_state is not None
    assert any(str(run.checkpoints.path("sft")) in str(w.message) for w in caught)


def test_a_finished_stage_keeps_one_lean_checkpoint_and_a_damaged_one_runs_again(policy, tmp_path: Path):
    run = _run(tmp_path)
    trained = train_stage(run, "sft", policy, 2, lr=1e-2, step=sft_step(DEMOS, steps=1, batch=2), seed=0)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["sft"]  # no .prev, no .tmp
    state = torch.load(run.checkpoints.path("sft") / "trainer_state.pt", weights_only=True)
    assert state == {"optimizer": None}  # nothing resumes a finished stage's optimizer
    assert run.resume("sft").progress == {"iteration": 2, "done": True}
    (run.checkpoints.path("sft") / "model.safetensors").write_bytes(b"torn")
    with pytest.warns(UserWarning, match="model.safetensors|unusable"):
        again = train_stage(run, "sft", policy, 2, lr=1e-2, step=sft_step(DEMOS, steps=1, batch=2), seed=0)
    assert torch.allclose(_weights(again), _weights(trained))  # run again from its seed: the same weights
    assert [m["iteration"] for m in run.metrics()] == [0, 1]


def _killed_at(iteration: int, step):
    """``step``, but the process dies (KeyboardInterrupt) when it reaches ``iteration``."""

    def run(policy, optimizer, it, reference):
        if it == iteration:
            raise KeyboardInterrupt
        return step(policy, optimizer, it, reference)

    return run


def test_zero_iterations_checkpoint_the_parent_and_negative_ones_are_refused(policy, tmp_path: Path):
    run = _run(tmp_path)
    copy = train_stage(run, "base", policy, 0, lr=1e-3, step=lambda *a: pytest.fail("stepped"), seed=0)
    assert torch.allclose(_weights(copy), _weights(policy))
    assert run.resume("base").progress == {"iteration": 0, "done": True}
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        train_stage(run, "bad", policy, -1, lr=1e-3, step=lambda *a: {}, seed=0)


def test_cached_artefacts_are_computed_once_and_again_when_damaged(tmp_path: Path):
    said: list[str] = []
    run = TrainingRun(tmp_path, load=lambda d: pytest.fail("no checkpoint"), echo=said.append)
    calls: list[int] = []
    compute = lambda: calls.append(1) or {"n": len(calls)}  # noqa: E731
    assert run.cached("data", "set", compute) == {"n": 1}
    assert run.cached("data", "set", compute) == {"n": 1} and len(calls) == 1
    (tmp_path / "data" / "set.json").write_text('{"n": ')
    assert run.cached("data", "set", compute) == {"n": 2}
    assert "set.json" in said[0]
    for kind, name in [("..", "x"), ("data", "../../outside"), ("data", "a/b"), (".hidden", "x")]:
        with pytest.raises(ValueError, match="not a plain name"):
            run.cached(kind, name, compute)
    assert sorted(p.name for p in tmp_path.parent.iterdir() if p.name == "outside.json") == []


def test_a_missing_run_directory_is_named(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        TrainingRun(tmp_path / "nowhere", load=load_policy)


def test_forget_drops_only_the_iterations_run_again(tmp_path: Path):
    run = _run(tmp_path)
    for stage, it in [("a", 0), ("a", 1), ("b", 0), ("a", 2)]:
        run.log(stage, it, {"x": 1.0})
    run.forget("a", 1)
    assert [(m["stage"], m["iteration"]) for m in run.metrics()] == [("a", 0), ("b", 0)]


def test_grpo_update_raises_the_advantaged_response_and_checks_its_inputs(policy):
    trained = policy.copy()
    prompts = [trained.prompt("observe the tree")] * 2
    responses = [trained.encode(["Motion: turn left"])[0], trained.encode(["Action: move(0, 0)"])[0]]
    advantages = torch.tensor([1.0, -1.0])
    encoded = trained.encode_prompts(prompts)
    before = response_logprobs(trained, encoded, responses)[0].sum(1).detach()
    optimizer = torch.optim.SGD(trained.model.parameters(), lr=0.5)
    seed_iteration(0, "grpo", 0)
    metrics = grpo_update(trained, optimizer, prompts, responses, advantages, reference=policy, minibatches=1,
                          clip=0.2, kl_coef=0.01)  # fmt: skip
    after = response_logprobs(trained, encoded, responses)[0].sum(1).detach()
    assert after[0] > before[0] and after[1] < before[1]
    assert set(metrics) == {"pg_loss", "kl", "clip_frac"}
    with pytest.raises(ValueError, match="2 prompts, 1 responses"):
        grpo_update(trained, optimizer, prompts, responses[:1], advantages, reference=None, minibatches=1, clip=0.2)
    with pytest.raises(ValueError, match="minibatches"):
        grpo_update(trained, optimizer, prompts, responses, advantages, reference=None, minibatches=0, clip=0.2)
