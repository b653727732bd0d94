import pytest

import actionspaces as asp
from actionspaces import CanonicalizeError, ChainSpace, GroundingSpace, ParseError, RawAction, RawSpace

cs = ChainSpace()
G = "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(512,300)<|point_end|>"


@pytest.mark.parametrize(
    "text",
    [
        f"{G}\nAction: move(19, 0) and press()",
        f"{G}\n, Action: move(19, 0) and press()",
        f"{G}, Action: move(19, 0) and press()",
        f"<|im_start|>assistant\n{G}\nAction: move(19, 0) and press()<|im_end|>",
        f"<|im_start|>assistant\n{G}\nAction: move(19, 0) and press()<|im_end|><|endoftext|>\n",
        f"**Grounding:** {G[11:]}\n**Action:** move(19, 0) and press()",
        f"**Grounding**: {G[11:]}\n**action**: move(19, 0) and press()",
        f"grounding： {G[11:]}\nACTION： move(19, 0) and press()",
        f"  {G}  \n\n  Action: move(19, 0) and press()  \n",
    ],
)
def test_splitting_variants(text):
    chain = cs.parse(text)
    assert chain.ok, chain.errors
    assert chain.spaces == ("grounding", "raw")
    assert chain.executable.space == "raw"
    assert chain.executable.action == RawAction(dx=19)
    assert chain.level("grounding").action.commands[0].label == "oak log"


def test_same_line_coa_with_motion():
    chain = asp.parse("Motion: turn left, Action: move(-5, 0)")
    assert chain.spaces == ("motion", "raw")
    assert chain.level("motion").action.look_x == "left"
    assert chain.executable.action == RawAction(dx=-5)


def test_four_levels_and_execution_order():
    text = "Skill: chop the oak tree\n" + G + "\nMotion: turn right\nAction: no_op"
    chain = cs.parse(text)
    assert chain.ok and chain.spaces == ("language", "grounding", "motion", "raw")
    assert chain.executable.space == "raw"
    high_only = cs.parse("Skill: chop\n" + G)
    assert high_only.executable.space == "grounding"
    custom = ChainSpace(execution_order=("grounding", "raw"))
    assert custom.parse(text).executable.space == "grounding"


def test_each_level_reports_its_own_error():
    text = "Grounding: Mine <|point_start|>(x,y)<|point_end|>\nMotion: turn sideways\nAction: move(1, 2) and press()"
    chain = cs.parse(text)
    assert not chain.ok
    assert [lv.ok for lv in chain.levels] == [False, False, True]
    g_err, m_err = chain.errors
    assert text[g_err.position :].startswith("x,y)") and g_err.space == "grounding"
    assert text[m_err.position :].startswith("sideways") and m_err.space == "motion"
    assert g_err.line == 1 and m_err.line == 2
    assert chain.executable.ok  # a bad high level never hides the raw action


def test_broken_executable_level_does_not_fall_back():
    chain = cs.parse(G + "\nAction: move(1, x)")
    assert chain.executable.space == "raw" and not chain.executable.ok
    with pytest.raises(ParseError, match="dy"):
        cs.canonicalize(chain)


def test_stray_text_and_empty_responses_are_errors():
    chain = cs.parse("I will chop the tree.\nAction: move(0, 0) and press()")
    assert not chain.ok and chain.executable.ok
    assert chain.chain_errors[0].message == "text before the first level"
    for empty in ["", "   ", "<|im_start|>assistant\n<|im_end|>"]:
        chain = cs.parse(empty)
        assert not chain.ok and chain.executable is None
        with pytest.raises(ParseError, match="no action"):
            cs.canonicalize(chain)


def test_bare_bodies_are_recognised():
    assert cs.parse("press('w')").spaces == ("raw",)
    assert cs.parse("Explore").spaces == ("grounding",)
    assert cs.parse("turn left").spaces == ("motion",)
    assert not cs.parse("turn left").levels[0].prefixed
    assert cs.parse("Motion: turn left").levels[0].prefixed
    tagged = cs.parse("<motion>turn left</motion>").levels[0]
    assert tagged.tagged and not tagged.prefixed
    assert cs.parse("<|latent_3|>").spaces == ("latent",)
    # free text is never taken as a bare skill
    chain = cs.parse("chop the tree")
    assert not chain.ok and "no level prefix" in chain.errors[0].message


def test_action_chunks_keep_every_segment():
    chain = cs.parse("Action: move('3.0', '0.0') and click('left') \n Action: move('39.0', '6.0') and click('left') \n")
    assert [lv.action.dx for lv in chain.levels_of("raw")] == [3.0, 39.0]
    assert chain.executable.action.dx == 3.0  # the first tick of the chunk runs next


def test_subset_of_spaces():
    only = ChainSpace([RawSpace(), GroundingSpace()])
    chain = only.parse("Motion: turn left\nAction: no_op")
    assert chain.chain_errors and chain.chain_errors[0].message == "text before the first level"
    with pytest.raises(ValueError, match="two spaces"):
        ChainSpace([RawSpace(), RawSpace()])
    with pytest.raises(TypeError, match="ActionSpace"):
        ChainSpace(["raw"])  # type: ignore[list-item]


def test_render_round_trip_and_errors():
    text = "Skill: chop\n" + G + "\nAction: move(19, 0) and press(w)"
    chain = cs.parse(text)
    assert cs.render(chain) == text
    with pytest.raises(ValueError, match="failed to parse"):
        cs.render(cs.parse("Action: move(x)"))
    with pytest.raises(TypeError, match="no space"):
        ChainSpace([RawSpace()]).render([GroundingSpace().parse("Explore")])


def test_canonicalize_high_level_only_chain_with_state():
    chain = cs.parse("Grounding: move to <|point_start|>(500,500)<|point_end|>")
    state = asp.ViewState(gui_open=True, cursor=(0.0, 0.0))
    pitch, yaw = cs.canonicalize(chain, state).camera
    assert pitch == 10.0 and yaw == 10.0  # far away: both axes clipped to 10° per tick
    with pytest.raises(CanonicalizeError, match="resolver"):
        cs.canonicalize(cs.parse("Skill: chop the tree"))


def test_non_str_input():
    with pytest.raises(ParseError, match="expected a str"):
        cs.parse(b"Action: no_op")  # type: ignore[arg-type]


def test_legacy_xml_levels():
    chain = asp.parse(
        "<grounding>Mine <|point_start|>(1,2)<|point_end|></grounding>\n<raw>move(1, 2) and press(w)</raw>"
    )
    assert chain.ok and chain.spaces == ("grounding", "raw")
    assert chain.executable.action == RawAction(dx=1, dy=2, buttons={"forward"})
    reserved = asp.parse(
        "<skill>chop</skill>, <|reserved_special_token_178|><|reserved_special_token_204|><|reserved_special_token_179|>"
    )
    assert reserved.ok and reserved.executable.action.buttons == {"attack"}
    prose = asp.parse("<motion>turn left</motion> junk")  # free text around tags is the model's reasoning
    assert prose.ok and [r.text for r in prose.reasoning] == ["junk"]
    assert prose.text[slice(*prose.reasoning[0].span)] == "junk"


def test_crlf_endings_are_whitespace_in_every_form():
    for text in ["Motion: turn left\r\n", "<motion>turn left</motion>\r\n", "\r\nAction: no_op\r\n"]:
        assert asp.parse(text).ok, text
