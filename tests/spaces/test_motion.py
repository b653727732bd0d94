import pytest

from actionspaces import MotionAction, MotionSpace, ParseError

space = MotionSpace()


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("Motion: cursor move left and down", "Motion: cursor move left and down"),
        ("Motion: move forward, sprint, turn left and up, attack / mine, jump", None),
        ("Motion: move forward and move left", None),
        ("Motion: move forward and left", "Motion: move forward and move left"),
        ("Motion: move backward", "Motion: move back"),
        ("Motion: place / use", "Motion: use / place"),
        ("Motion: switch hotbar 3", "Motion: switch to hotbar 3"),
        ("Motion: switch to hotbar 1, 2", None),
        ("Motion: attack / mine and use / place", None),
        ("Motion: attack/mine", "Motion: attack / mine"),
        ("Motion: cursor move right, operate gui", None),
        ("Motion: operate gui, choose", None),
        ("Motion: open inventory", None),
        ("Motion: close inventory", None),
        ("Motion: open gui", None),
        ("Motion: close gui", None),
        ("Motion: drop, swap", None),
        ("Motion: no_op", None),
        ("Motion: no-op", "Motion: no_op"),
        ("Motion: turn up and left", "Motion: turn left and up"),
        ("Motion: jump, move forward", "Motion: move forward, jump"),
        ("Motion: move forward, move left", "Motion: move forward and move left"),
        ("MOTION: Move Forward", "Motion: move forward"),
    ],
)
def test_vocabularies_normalise_to_encoder_form(text, rendered):
    action = space.parse(text)
    assert space.render(action) == (rendered or text)


@pytest.mark.parametrize(
    ("text", "at", "needle"),
    [
        ("Motion: move <direction>", "<direction>", "unexpected"),
        ("Motion: switch hotbar", "", "unexpected end"),
        ("Motion: switch hotbar 0", "0", "not a hotbar slot"),
        ("Motion: switch hotbar 2, 2", "2", "repeated"),
        ("Motion: turn forward", "forward", "cannot turn"),
        ("Motion: move up", "up", "cannot move"),
        ("Motion: move forward and back", "back", "conflicting"),
        ("Motion: turn left, operate gui", "operate", "mixes world words"),
        ("Motion: jump, jump", "jump", "given twice"),
        ("Motion: move forward, move back", "move back", "given twice"),
        ("Motion: fly", "fly", "unexpected"),
        ("Motion: turn left,", "", "unexpected end"),
        ("Motion:", "", "empty motion"),
    ],
)
def test_errors(text, at, needle):
    with pytest.raises(ParseError, match=needle) as info:
        space.parse(text)
    assert text[info.value.position :].startswith(at), text[info.value.position :]


def test_canonicalize_fixed_magnitudes():
    c = space.canonicalize(space.parse("Motion: move forward, sprint, turn left and up, attack / mine, jump"))
    assert c.buttons == {"forward", "sprint", "attack", "jump"}
    assert c.camera == (-5.0, -5.0)
    g = space.canonicalize(space.parse("Motion: cursor move right and down, operate gui, choose"))
    assert g.camera == (3.0, 3.0) and g.buttons == {"attack", "use"}
    assert MotionSpace(turn_deg=2).canonicalize(space.parse("Motion: turn right")).camera == (0.0, 2.0)
    screens = {
        "open inventory": "inventory", "close inventory": "inventory", "close gui": "ESC", "open gui": "use",
        "swap": "swapHands", "drop": "drop", "switch to hotbar 4": "hotbar.4",
    }  # fmt: skip
    for words, button in screens.items():
        assert space.canonicalize(space.parse(f"Motion: {words}")).buttons == {button}
    assert space.canonicalize(space.parse("Motion: no_op")).is_noop


def test_gui_flag_needs_its_words():
    with pytest.raises(ValueError, match="gui=True"):
        MotionAction(gui=True, jump=True)
    with pytest.raises(ValueError, match=r"1\.\.9"):
        MotionAction(hotbar=(10,))


def test_parameters_validated():
    with pytest.raises(ValueError, match="turn_deg"):
        MotionSpace(turn_deg=-1)
