"""Conformance with OpenHA's outputs (../shared/corpus) and the reference-parser defects (openha-formats.md §7).

Defects that concern parsing each have a test below: B1–B9, B11, B13, B17–B19, B23, B24. The others are
about trainers or runtime code (B10, B12, B14–B16, B20–B22) and are not parsing questions.
"""

import json
import re

import numpy as np
import pytest

import actionspaces as asp
from actionspaces import ChainSpace, GroundingSpace, MotionSpace, ParseError, RawSpace
from actionspaces.compat import openha_decode_raw
from conftest import CORPUS

cs = ChainSpace()
# Placeholder words of OpenHA's prompt templates; a template must be rejected at one of them.
PLACEHOLDER = re.compile(r"\(x,y\)|<direction>|'dx'|\bkeys\b|\bor\b|\w+ actions|$")


def corpus():
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


def test_concrete_outputs_parse():
    rows = [r for r in corpus() if r["origin"] != "prompt_template"]
    assert len(rows) >= 10
    for row in rows:
        text = row["text"]
        if "backslash-n" in row.get("note", ""):
            # README rendering artefact: the corpus notes that "\n" stands for a newline
            text = text.replace("\\n", "\n")
        chain = cs.parse(text)
        assert chain.executable is not None and chain.executable.ok, (text, chain.errors)
        if "..." not in text:  # the README's elided grounding line is not a real output
            assert chain.ok, (text, chain.errors)


def test_concrete_outputs_decode_like_openha_where_openha_is_right():
    """Where OpenHA's decode is not one of the defects (a null action for what it did not read), we agree."""
    checked = 0
    for row in corpus():
        expected = row.get("openha_decoded_env_action")
        defect = any(w in row.get("openha_decode_note", "") for w in ("null action", "not recognised"))
        if expected is None or defect:
            continue
        checked += 1
        text = row["text"].replace("\\n", "\n")
        chain = cs.parse(text)
        # OpenHA keeps the last Action: segment of a chunk
        last = chain.levels_of("raw")[-1]
        ours = RawSpace().canonicalize(last.action)
        np.testing.assert_allclose(ours.camera, expected["camera"], atol=1e-9)
        assert ours.buttons == {k for k, v in expected.items() if k != "camera" and v}
    assert checked >= 4


def test_prompt_templates_are_rejected_at_the_placeholder():
    for row in corpus():
        if row["origin"] != "prompt_template":
            continue
        text = row["text"]
        chain = cs.parse(text)
        placeholders = [m.span() for m in PLACEHOLDER.finditer(text) if m.group()]
        if not placeholders:
            # templates without a placeholder are plain vocabulary words; except "switch hotbar",
            # whose slot number is missing (reported at the end)
            if text == "switch hotbar":
                assert not chain.ok and chain.errors[0].position == len(text)
            else:
                assert chain.ok, (text, chain.errors)
            continue
        assert chain.errors, text
        for err in chain.errors:
            assert any(lo <= err.position < hi for lo, hi in placeholders), (text, err.position, str(err))


# ------------------------------------------------------------------------------- the defects


def test_B1_grounding_arguments_are_parsed():
    a = GroundingSpace().parse(
        "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(615,505)<|point_end|>"
    )
    assert a.commands[0].label == "oak log" and (a.commands[0].target.x, a.commands[0].target.y) == (615, 505)


def test_B2_motion_is_extracted():
    chain = cs.parse("Motion: cursor move left and down\nAction: no_op")
    assert chain.level("motion").action.look_x == "left"


def test_B3_readme_raw_form_is_not_a_null_action():
    text = "Action: move(dx='4.0', dy='-1.0') and keyDown(keys=(keyboard.left.control, keyboard.w))"
    ours = RawSpace().canonicalize(RawSpace().parse(text))
    assert ours.buttons == {"sprint", "forward"} and ours.camera == (-0.15, 0.6)
    assert openha_decode_raw(text)["forward"] == 0  # the reference drops it


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("move(1, 2) and press(w)", None),  # no "Action:" alone is fine as a bare raw action ...
        ("I will mine the tree.", "no level prefix"),  # ... but text with no action is an error, not a no-op
        ("Action: move(1, 2) and press(w) and no_op", "unexpected"),  # no_op inside a segment
        ("Action: move(dx, dy) and press(w)", "finite number"),  # an unmatched move is no camera-0 default
        ("Action: press(jump)", "unknown key"),  # unknown keys are reported
        ("Action: move(1, 2) and move(3, 4)", "second move"),  # not "first one wins"
    ],
)
def test_B4_no_silent_fallbacks(text, problem):
    chain = cs.parse(text)
    if problem is None:
        assert chain.ok
    else:
        assert not chain.ok and problem in str(chain.errors[0])


def test_B4_what_the_reference_drops_we_keep():
    space = RawSpace()
    assert space.parse('Action: press("w")').buttons == {"forward"}  # double quotes
    assert space.parse("Action: move(1, 2), press(w), click(left)").buttons == {
        "forward",
        "attack",
    }  # ", " clicks
    assert space.parse("Action: click(middle)").buttons == {"pickItem"}
    assert space.parse("Action: press(w) and press(space)").buttons == {
        "forward",
        "jump",
    }  # not only the first
    assert openha_decode_raw("Action: move(1, 2), press(w), click(left)")["attack"] == 0
    assert openha_decode_raw('Action: press("w")')["forward"] == 0
    # "and" inside a word is not a separator
    assert not cs.parse("Action: press(w) andclick(left)").ok


def test_B5_vocabulary_drift_is_normalised():
    m = MotionSpace()
    assert m.parse("Motion: move backward") == m.parse("Motion: move back")
    assert m.parse("Motion: place / use") == m.parse("Motion: use / place")
    assert m.parse("Motion: switch hotbar 2") == m.parse("Motion: switch to hotbar 2")
    assert RawSpace().parse("Action: no-op") == RawSpace().parse("Action: no_op")
    assert GroundingSpace().parse("Grounding: no_op") == GroundingSpace().parse("Grounding: no-op")
    r = RawSpace()
    assert r.parse("Action: move(1, 2), press(w)") == r.parse("Action: move(1, 2) and press(w)")


def test_B6_grounding_verb_drift_and_joins():
    g = GroundingSpace()
    pt = "<|point_start|>(1,2)<|point_end|>"
    assert g.parse(f"move_camera {pt}") == g.parse(f"move to {pt}")
    assert g.parse(f"move_camera <|object_ref_start|>slot<|object_ref_end|>{pt}").commands[0].label == "slot"
    assert len(g.parse(f"Mine {pt}, Kill {pt} and Explore").commands) == 3


def test_B7_multi_word_verbs_are_whole_verbs():
    g = GroundingSpace()
    pt = "<|point_start|>(1,2)<|point_end|>"
    assert [c.verb for c in g.parse(f"right click {pt}, move to {pt}, no-op").commands] == [
        "right_click",
        "move_to",
        "noop",
    ]


def test_B8_B9_points_stay_in_the_grid_with_one_pixel_rule():
    (cmd,) = GroundingSpace().parse("Grounding: move to <|point_start|>(999,999)<|point_end|>").commands
    assert cmd.target.to_pixels(640, 360) == (639, 359)  # clipped into the frame, no ceil overflow
    assert cmd.target.to_pixels(360, 360) == (359, 359)  # the frame size is a parameter, not fixed 640×360


def test_B11_click_buttons_are_not_swapped():
    r = RawSpace()
    assert r.parse("Action: click(button=left)").buttons == {"attack"}
    assert r.parse("Action: click(button=right)").buttons == {"use"}
    assert r.parse("Action: press(keyboard.left.ctrl)").buttons == {"sprint"}


def test_B13_wrapper_tokens_are_stripped():
    chain = cs.parse("<|im_start|>assistant\nAction: move(0, 0) and press()<|im_end|><|endoftext|>")
    assert chain.ok and chain.executable.action.is_noop


def test_B17_one_comparator_with_explicit_tolerance():
    r = RawSpace()
    a = r.canonicalize(r.parse("Action: move(19, 0)"))
    b = r.canonicalize(r.parse("Action: move(20, 0)"))
    assert not asp.equivalent(a, b)  # exact (up to float noise)
    assert asp.equivalent(a, b, camera_tol_deg=0.15)
    assert asp.equivalent(a, b, quantizer=asp.VPT_CAMERA)
    assert asp.equivalent(a, b, mode="openha_strl")  # 2.85 and 3.0 both round to 3°


def test_B18_camera_beyond_the_env_bound_is_an_error():
    with pytest.raises(ParseError, match="exceeds"):
        RawSpace().parse("Action: move(2400, 0)")  # 360° in one tick
    clipped = asp.VPTTokenizer().roundtrip(RawSpace().canonicalize(RawSpace().parse("Action: move(100, 0)")))
    assert clipped.camera == (0.0, 10.0)  # VPT clip happens only when quantizing


def test_B19_motion_null_action():
    assert MotionSpace().parse("Motion: no_op").is_noop
    with pytest.raises(ParseError, match="empty motion"):
        MotionSpace().parse("Motion: ")


def test_B23_case_markup_and_fullwidth_colon():
    for text in ["action: no_op", "**Action:** no_op", "**Action**: no_op", "Action： no_op", "ACTION:no_op"]:
        chain = cs.parse(text)
        assert chain.ok and chain.spaces == ("raw",), text
    chain = cs.parse("Motion: turn left, Action: move(-5, 0)")
    assert chain.level("motion").action == MotionSpace().parse("turn left")


def test_B24_all_minerl_keys_are_parsed():
    """drop / ESC / swapHands parse to canonical keys; dropping them is the MineStudio adapter's job."""
    c = RawSpace().canonicalize(RawSpace().parse("Action: press(q, escape, f)"))
    assert c.buttons == {"drop", "ESC", "swapHands"}
