import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actionspaces import GroundingCommand, GroundingSpace, ParseError, Point, ViewState

space = GroundingSpace()
P = "<|point_start|>({},{})<|point_end|>"
REF = "<|object_ref_start|>{}<|object_ref_end|>"


@pytest.mark.parametrize(
    ("text", "verb", "label", "target"),
    [
        ("Grounding: Kill " + REF.format("cow") + P.format(10, 20), "kill", "cow", (10, 20)),
        ("Grounding: Mine " + P.format(512, 300), "mine", None, (512, 300)),
        ("Grounding: Approach " + REF.format("oak log") + P.format(0, 999), "approach", "oak log", (0, 999)),
        ("Grounding: right click " + P.format(420, 610), "right_click", None, (420, 610)),
        (
            "Grounding: move to " + REF.format("empty slot") + P.format(881, 558),
            "move_to",
            "empty slot",
            (881, 558),
        ),
        (
            "Grounding: move_camera " + REF.format("empty slot") + P.format(881, 558),
            "move_to",
            "empty slot",
            (881, 558),
        ),
        ("Grounding: Explore", "explore", None, None),
        ("Grounding: no-op", "noop", None, None),
        ("Grounding: no_op", "noop", None, None),
        ("grounding: KILL <|point_start|>( 1 , 2 )<|point_end|>", "kill", None, (1, 2)),
        ("Grounding: Approach <|box_start|>(100,200),(300,400)<|box_end|>", "approach", None, (200, 300)),
        ("Grounding: Kill <|point_start|>(x=0.881,y=0.558)<|point_end|>", "kill", None, (881, 558)),
        ("Grounding: Mine " + P.format(5, 6).replace(")<", "),(7,8)<"), "mine", None, (5, 6)),
    ],
)
def test_verbs_and_targets(text, verb, label, target):
    (cmd,) = space.parse(text).commands
    assert cmd.verb == verb and cmd.label == label
    assert (cmd.target.x, cmd.target.y) == target if target else cmd.target is None


def test_several_commands_joined_by_comma_or_and():
    a = space.parse("Grounding: Mine " + P.format(1, 2) + " and Explore, no-op")
    assert [c.verb for c in a.commands] == ["mine", "explore", "noop"]
    assert space.render(a) == "Grounding: Mine " + P.format(1, 2) + ", Explore, no-op"


@pytest.mark.parametrize(
    ("text", "at", "needle"),
    [
        ("Grounding: Kill " + P.format("x", "y"), "x,y)", "unexpected"),
        ("Grounding: Mine " + P.format(1000, 3), "1000", "outside the image grid"),
        ("Grounding: Mine " + P.format(-1, 3), "-1", "outside the image grid"),
        ("Grounding: Mine " + REF.format("oak"), "", "unexpected end"),
        ("Grounding: Mine", "", "unexpected end"),
        (
            "Grounding: Kill " + REF.format("  ") + P.format(1, 2),
            "<|object_ref_start|>",
            "empty object label",
        ),
        ("Grounding: Explore " + P.format(1, 2), "<|point_start|>", "unexpected"),
        ("Grounding: Use " + P.format(1, 2), "Use", "unexpected"),
        ("Grounding: Kill <|point_start|>(x=1.5,y=0.5)<|point_end|>", "1.5", "outside"),
        ("Grounding: Approach <|box_start|>(1,2)<|box_end|>", "<|box_end|>", "unexpected"),
    ],
)
def test_errors(text, at, needle):
    with pytest.raises(ParseError, match=needle) as info:
        space.parse(text)
    assert text[info.value.position :].startswith(at), text[info.value.position :]


def test_pixel_conversion_rule():
    assert Point(x=0, y=0).to_pixels(640, 360) == (0, 0)
    assert Point(x=999, y=999).to_pixels(640, 360) == (639, 359)
    assert Point(x=500, y=500).to_pixels(640, 360) == (320, 180)
    assert Point(x=881, y=558).to_pixels(640, 360) == (564, 201)
    with pytest.raises(ValueError, match="outside"):
        Point.from_pixels(640, 0, 640, 360)
    with pytest.raises(ValueError, match="positive"):
        Point(x=1, y=1).to_pixels(0, 360)


@given(
    width=st.integers(1, 1000),
    height=st.integers(1, 1000),
    fx=st.floats(0, 1, exclude_max=True),
    fy=st.floats(0, 1, exclude_max=True),
)
def test_pixel_point_pixel_is_exact(width, height, fx, fy):
    col, row = math.floor(fx * width), math.floor(fy * height)
    assert Point.from_pixels(col, row, width, height).to_pixels(width, height) == (col, row)


@given(
    width=st.integers(1, 1000),
    height=st.integers(1, 1000),
    fx=st.floats(0, 1, exclude_max=True),
    fy=st.floats(0, 1, exclude_max=True),
)
def test_one_rule_maps_positions_and_pixel_indices_to_the_grid(width, height, fx, fy):
    col, row = math.floor(fx * width), math.floor(fy * height)
    # a pixel index is the position of its centre; a position lies in the cell floor(c / W * 1000)
    assert Point.from_pixels(col, row, width, height) == Point.from_position(col + 0.5, row + 0.5, width, height)
    x, y = fx * width, fy * height
    point = Point.from_position(x, y, width, height)
    assert point.x <= x / width * 1000 < point.x + 1 and point.y <= y / height * 1000 < point.y + 1


def test_positions_outside_the_frame_clamp_and_bad_ones_are_named():
    assert Point.from_position(-3.0, 1e6, 640, 360) == Point(x=0, y=999)
    with pytest.raises(ValueError, match="finite"):
        Point.from_position(float("nan"), 0.0)
    with pytest.raises(ValueError, match="positive"):
        Point.from_position(1.0, 1.0, 0, 360)


def test_craftworld_points_are_the_one_rule():
    from actionspaces.envs import CraftWorld

    env = CraftWorld("mine_block:oak_log")
    env.reset(seed=1)
    objects = env.visible_objects()
    assert objects
    for obj in objects:
        expected = Point.from_position(*obj.pixel, env.camera.width, env.camera.height)
        assert env.grid_point(*obj.pixel) == (int(expected.x), int(expected.y))
        assert f"({int(expected.x)},{int(expected.y)})" in env.text()


def test_model_invariants():
    with pytest.raises(ValueError, match="needs a target"):
        GroundingCommand(verb="mine")
    with pytest.raises(ValueError, match="takes no target"):
        GroundingCommand(verb="explore", points=(Point(x=1, y=1),))
    with pytest.raises(ValueError, match="two corner"):
        GroundingCommand(verb="mine", points=(Point(x=1, y=1),), box=True)


def test_canonicalize_world_turns_then_acts():
    # a point right of centre: turn right (yaw > 0), clipped to max_turn_deg
    far = space.parse("Grounding: Mine " + P.format(999, 500))
    assert space.canonicalize(far).camera == (pytest.approx(0.0, abs=0.2), 10.0)
    near = space.parse("Grounding: Mine " + P.format(560, 500))
    _, yaw = space.canonicalize(near).camera
    f = 180 / math.tan(math.radians(35))
    assert yaw == pytest.approx(math.degrees(math.atan2(358 + 0.5 - 320, f)))
    centred = space.parse("Grounding: Kill " + P.format(500, 500))
    assert space.canonicalize(centred).buttons == {"attack"}
    assert space.canonicalize(space.parse("Grounding: Approach " + P.format(500, 500))).buttons == {"forward"}
    assert space.canonicalize(space.parse("Grounding: Explore")).buttons == {"forward"}
    assert space.canonicalize(space.parse("Grounding: no-op")).is_noop


def test_canonicalize_gui_moves_cursor_then_clicks():
    state = ViewState(gui_open=True, cursor=(320.0, 180.0))
    a = space.parse("Grounding: move to " + P.format(600, 500))  # pixel (384, 180)
    pitch, yaw = space.canonicalize(a, state).camera
    assert yaw == pytest.approx((384.5 - 320) * 360 / 2400) and pitch == pytest.approx(0.5 * 360 / 2400)
    on_target = ViewState(gui_open=True, cursor=(384.5, 180.5))
    assert space.canonicalize(a, on_target).buttons == {"attack"}
    rc = space.parse("Grounding: right click " + P.format(600, 500))
    assert space.canonicalize(rc, on_target).buttons == {"use"}


def test_parameters_validated():
    with pytest.raises(ValueError, match="max_turn_deg"):
        GroundingSpace(max_turn_deg=0)
