import numpy as np
import pytest

from actionspaces import VPT_CAMERA, CanonicalAction, RawSpace, equivalent


def raw(text):
    space = RawSpace()
    return space.canonicalize(space.parse(text))


def test_tolerance_mode():
    a, b = CanonicalAction(camera=(0.0, 2.85)), CanonicalAction(camera=(0.0, 2.9))
    assert not equivalent(a, b)
    assert equivalent(a, b, camera_tol_deg=0.05 + 1e-9)
    assert not equivalent(a, CanonicalAction(buttons={"jump"}, camera=(0.0, 2.85)), camera_tol_deg=10)
    assert equivalent(a, b, quantizer=VPT_CAMERA)  # both in bin 8 (1.6095..3.2154)
    with pytest.raises(ValueError, match="camera_tol_deg"):
        equivalent(a, b, camera_tol_deg=-1)
    with pytest.raises(ValueError, match="mode"):
        equivalent(a, b, mode="fuzzy")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dx", "degrees"),
    [(3, 0.0), (-3, -0.0), (4, 1.0), (9, 1.0), (10, 2.0), (30, 4.0), (-10, -2.0), (50, 8.0)],
)
def test_openha_strl_rounds_half_to_even(dx, degrees):
    """openha-formats.md 4.1: |dx| ≤ 3 → 0°, 4..9 → 1°, 10 → 1.5 → 2°, 30 → 4.5 → 4°."""
    gt = CanonicalAction(camera=(0.0, degrees))
    assert equivalent(raw(f"Action: move({dx}, 0)"), gt, mode="openha_strl")
    assert float(np.round(dx * 0.15)) == degrees


def test_openha_strl_compares_only_ground_truth_keys():
    gt = raw("Action: move(0, 0) and press(w)")
    assert equivalent(raw("Action: move(1, 0) and press(w, escape, f) and click(middle)"), gt, mode="openha_strl")
    assert not equivalent(raw("Action: move(0, 0) and press(w, space)"), gt, mode="openha_strl")
    assert not equivalent(raw("Action: move(0, 0) and press()"), gt, mode="openha_strl")
    # a key outside the null dict counts once the ground truth presses it
    gt_esc = raw("Action: press(escape)")
    assert not equivalent(raw("Action: no_op"), gt_esc, mode="openha_strl")
    # not symmetric: the ground truth decides which keys count
    assert not equivalent(gt, raw("Action: press(w, escape)"), mode="openha_strl")
