import numpy as np
import pytest

from actionspaces import OPENHA_CAMERA, VPT_CAMERA, CameraQuantizer, CanonicalAction, VPTTokenizer


def test_vpt_bin_centres_and_edges():
    assert VPT_CAMERA.n_bins == 11 and VPT_CAMERA.null_bin == 5
    np.testing.assert_allclose(
        VPT_CAMERA.centres,
        [-10, -5.8095, -3.2154, -1.6095, -0.6154, 0, 0.6154, 1.6095, 3.2154, 5.8095, 10],
        atol=1e-4,
    )
    edges = [0.2710, 1.0531, 2.3166, 4.3577, 7.6547]
    np.testing.assert_allclose(VPT_CAMERA.edges, [-e for e in reversed(edges)] + edges, atol=1e-4)
    # just inside / outside the first edge
    assert int(VPT_CAMERA.encode(0.27)) == 5 and int(VPT_CAMERA.encode(0.272)) == 6
    assert int(VPT_CAMERA.encode(7.66)) == 10 and int(VPT_CAMERA.encode(-100.0)) == 0


def test_openha_21_bin_table():
    assert OPENHA_CAMERA.n_bins == 21 and OPENHA_CAMERA.null_bin == 10
    np.testing.assert_allclose(
        OPENHA_CAMERA.centres,
        [-10, -7.244, -5.211, -3.712, -2.607, -1.791, -1.19, -0.746, -0.419, -0.178, 0,
         0.178, 0.419, 0.746, 1.19, 1.791, 2.607, 3.712, 5.211, 7.244, 10],
        atol=1e-3,
    )  # fmt: skip


def test_quantizer_is_vectorised_and_round_trips_centres():
    bins = np.arange(VPT_CAMERA.n_bins)
    assert VPT_CAMERA.encode(VPT_CAMERA.decode(bins)).tolist() == bins.tolist()
    assert VPT_CAMERA.encode(np.array([[0.3, -0.3], [1.0, -2.5]])).tolist() == [[6, 4], [6, 2]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"maxval": 0, "binsize": 1, "mu": 1},
        {"maxval": 10, "binsize": 3, "mu": 10},
        {"maxval": 10, "binsize": 2, "mu": float("nan")},
    ],
)
def test_quantizer_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError, match="CameraQuantizer"):
        CameraQuantizer(**kwargs)


def test_quantizer_rejects_bad_values():
    with pytest.raises(ValueError, match="finite"):
        VPT_CAMERA.encode(float("nan"))
    with pytest.raises(ValueError, match=r"0\.\.10"):
        VPT_CAMERA.decode(11)


def A(*buttons, camera=(0.0, 0.0)):
    return CanonicalAction(buttons=frozenset(buttons), camera=camera)


# minerl-action-space.md §3.4, rows 1-8: env action in, tokens, decoded env action
WORKED = [
    (A(), (0, 60), A()),
    (A("forward", camera=(0.3, -0.3)), (289, 70), A("forward", camera=(0.6154, -0.6154))),
    (A("forward", "jump", "attack", camera=(1.0, -2.5)), (295, 68), A("forward", "jump", "attack", camera=(0.6154, -3.2154))),
    (A("hotbar.3", "sprint", "forward", camera=(4.0, 7.5)), (2913, 97), A("hotbar.3", "sprint", "forward", camera=(3.2154, 5.8095))),
    (A("inventory", "forward", camera=(-15.0, 30.0)), (8640, 60), A("inventory")),
    (A("forward", "back", "left", camera=(0.25, 0.2)), (96, 60), A("left")),
    (A("sneak", "sprint", "use"), (80, 60), A("sneak", "use")),
    (A("hotbar.1", "hotbar.2"), (1728, 60), A("hotbar.2")),
]  # fmt: skip


@pytest.mark.parametrize(("env", "tokens", "decoded"), WORKED)
def test_worked_examples(env, tokens, decoded):
    tok = VPTTokenizer()
    assert tok.encode(env) == tokens
    back = tok.decode(*tokens)
    assert back.buttons == decoded.buttons
    np.testing.assert_allclose(back.camera, decoded.camera, atol=1e-4)


def test_row_5b_camera_clipped_without_inventory():
    back = VPTTokenizer().roundtrip(A(camera=(-15.0, 30.0)))
    np.testing.assert_allclose(back.camera, (-10.0, 10.0))


def test_camera_head_ignored_when_meta_is_off():
    # buttons index 288 = forward with camera-meta off: camera index 70 must be ignored
    assert VPTTokenizer().decode(288, 70) == A("forward")


def test_every_buttons_index_round_trips():
    tok = VPTTokenizer()
    for idx in range(8641):
        action = tok.decode(idx, 70)
        camera_meta_on = idx % 2 == 1 and idx != 8640
        assert tok.encode(action) == (idx, 70 if camera_meta_on else 60)


def test_unsupported_buttons_dropped_or_rejected():
    tok = VPTTokenizer()
    assert tok.encode(A("ESC", "pickItem", "swapHands")) == (0, 60)
    with pytest.raises(ValueError, match="ESC"):
        tok.encode(A("ESC"), strict=True)


def test_decode_rejects_out_of_range_indices():
    with pytest.raises(ValueError, match="buttons"):
        VPTTokenizer().decode(8641, 60)
    with pytest.raises(ValueError, match="camera"):
        VPTTokenizer().decode(0, 121)


def test_openha_quantizer_joint_camera_size():
    assert VPTTokenizer(OPENHA_CAMERA).n_camera == 441
    assert VPTTokenizer(OPENHA_CAMERA).null_camera == 220
