import numpy as np
import pytest
from gymnasium import spaces

from actionspaces import BUTTONS, CanonicalAction


def test_buttons_are_minerl_1_0_sorted():
    assert len(BUTTONS) == 23
    assert list(BUTTONS) == sorted(BUTTONS, key=str)  # env.action_space sorts keys
    assert {"ESC", "pickItem", "swapHands", "hotbar.9", "inventory"} <= set(BUTTONS)


def test_noop_and_to_env_has_24_keys_with_float32_camera():
    env = CanonicalAction.noop().to_env()
    assert len(env) == 24
    assert all(env[b] == 0 for b in BUTTONS)
    assert env["camera"].dtype == np.float32 and env["camera"].tolist() == [0.0, 0.0]
    assert CanonicalAction.noop().is_noop


def test_from_env_accepts_partial_dicts_and_round_trips():
    a = CanonicalAction.from_env({"forward": 1, "attack": np.int64(1), "camera": np.array([1.5, -3.0])})
    assert a.buttons == {"forward", "attack"} and a.camera == (1.5, -3.0)
    assert CanonicalAction.from_env(a.to_env()) == a
    assert CanonicalAction.from_env({}) == CanonicalAction.noop()
    # every form a gymnasium user may send: bools, numpy scalars and 0-d arrays, tuples, nested arrays
    b = CanonicalAction.from_env({"jump": True, "use": np.bool_(True), "sneak": np.array(1), "attack": 0,
                                  "camera": (2, -1)})  # fmt: skip
    assert b.buttons == {"jump", "use", "sneak"} and b.camera == (2.0, -1.0) and type(b.camera[0]) is float
    assert CanonicalAction.from_env({"camera": np.array([[1.0], [2.0]], np.float32)}).camera == (1.0, 2.0)
    assert CanonicalAction.from_env({"forward": 1}) == CanonicalAction(buttons={"forward"})
    assert hash(CanonicalAction.from_env({"forward": 1})) == hash(CanonicalAction(buttons={"forward"}))


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"fly": 1}, "fly"),
        ({"forward": 2}, "forward"),
        ({"camera": [float("nan"), 0.0]}, "camera"),
        ({"camera": [0.0, 181.0]}, "camera"),
        ({"camera": [1.0]}, "camera"),
        ({"jump": [1, 1]}, "jump"),
        ({"jump": "1"}, "jump"),
        ({"jump": None}, "jump"),
        ({"jump": 0.5}, "jump"),
        ({"jump": float("nan")}, "jump"),
        ({"camera": [1.0, 2.0, 3.0]}, "camera"),
        ({"camera": "ab"}, "camera"),
        ({"camera": None}, "camera"),
        ({"camera": {"pitch": 1.0}}, "camera"),
        ({"camera": np.array([0.0, np.inf])}, "camera"),
    ],
)
def test_from_env_rejects_bad_input_naming_the_key(env, needle):
    with pytest.raises(ValueError, match=needle):
        CanonicalAction.from_env(env)


def test_immutable_and_hashable():
    a = CanonicalAction(buttons={"jump"})
    with pytest.raises(Exception, match="frozen"):
        a.camera = (1.0, 1.0)  # type: ignore[misc]
    assert len({a, CanonicalAction(buttons={"jump"})}) == 1


def test_constructor_validates():
    with pytest.raises(ValueError, match="fly"):
        CanonicalAction(buttons={"fly"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        CanonicalAction(camera=(float("inf"), 0.0))


def test_space_matches_minerl_and_contains_to_env():
    space = CanonicalAction.space()
    assert isinstance(space, spaces.Dict)
    assert list(space.keys()) == sorted([*BUTTONS, "camera"], key=str)
    cam = space["camera"]
    assert isinstance(cam, spaces.Box)
    assert cam.dtype == np.float32 and cam.shape == (2,)
    assert cam.low.tolist() == [-180.0, -180.0] and cam.high.tolist() == [180.0, 180.0]
    assert all(space[b] == spaces.Discrete(2) for b in BUTTONS)
    action = CanonicalAction(buttons={"use", "hotbar.3"}, camera=(10.0, -20.0))
    assert space.contains(action.to_env())
    sample = space.sample()
    assert CanonicalAction.from_env(sample).to_env().keys() == sample.keys()


def test_pressed_rejects_unknown_names():
    assert CanonicalAction(buttons={"use"}).pressed("use")
    with pytest.raises(KeyError, match="Use"):
        CanonicalAction().pressed("Use")
