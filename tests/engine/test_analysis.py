"""Analysis of real faces composed into booth scenes: geometry, head pose signs, people count."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.scenes import FACE_WIDTH_FRACTION, compose_scene
from kiosk.analysis import Analysis, head_pose


@pytest.mark.parametrize("face", ["astronaut", "hopper"])
def test_good_scene_geometry(scenes, face):
    rgb, a, _ = scenes(face=face)
    assert isinstance(a, Analysis) and a.face is not None
    assert a.people_count == 1
    f = a.face
    assert f.landmarks.shape == (478, 2)
    h = rgb.shape[0]
    # the scene put the cheek-to-cheek width at FACE_WIDTH_FRACTION of the height
    assert f.face_width == pytest.approx(FACE_WIDTH_FRACTION * h, rel=0.12)
    assert abs(f.face_center_x - rgb.shape[1] / 2) < 0.03 * rgb.shape[1]
    # the person's right pupil is on the image's left in an un-mirrored camera image
    assert f.right_pupil[0] < f.left_pupil[0]
    # head top (hair) above the forehead landmark, eyes below it
    assert a.head_top_y is not None and not a.head_top_clipped
    assert a.head_top_y < f.landmarks[10, 1] < f.eye_line_y
    assert a.person_mask.shape == rgb.shape[:2] and a.person_mask.dtype == np.float32
    assert a.shoulders is not None
    assert a.shoulders[0][0] > a.shoulders[1][0]      # person's left shoulder on the image right
    assert f.pose_error_px < 0.05 * f.face_width


def test_second_person_is_counted(scenes):
    _, a, _ = scenes(face="hopper", second_face=True)
    assert a.people_count == 2


def test_empty_backdrop_has_nobody(analyzer):
    rgb = np.full((480, 640, 3), (100, 197, 255), np.uint8)
    a = analyzer.analyze(rgb)
    assert a.face is None and a.people_count == 0 and a.head_top_y is None


def test_roll_sign_follows_the_rotated_head(scenes):
    # rotating the person counter-clockwise in the image leans the head toward the person's
    # RIGHT shoulder: negative roll by the documented convention
    _, upright, _ = scenes(face="hopper")
    _, tilted, _ = scenes(face="hopper", roll_deg=12.0)
    assert tilted.face.roll - upright.face.roll == pytest.approx(-12.0, abs=3.0)


def test_yaw_and_pitch_signs_from_rotated_real_landmarks(scenes, rotate_landmarks):
    rgb, a, _ = scenes(face="hopper")
    size = (rgb.shape[1], rgb.shape[0])
    y0, p0, _, _ = head_pose(a.face.landmarks, size)
    y1, _, _, _ = head_pose(rotate_landmarks(a.face, yaw_deg=15), size)
    assert y1 - y0 == pytest.approx(15, abs=5)      # turned to the person's left: positive
    _, p1, _, _ = head_pose(rotate_landmarks(a.face, pitch_deg=12), size)
    assert p1 - p0 == pytest.approx(12, abs=5)      # chin up: positive


def test_full_resolution_still_is_mapped_back(analyzer):
    rgb = compose_scene("hopper", "blue", size=(4056, 3040))
    a = analyzer.analyze(rgb)
    assert a.image.shape == (3040, 4056, 3)
    assert a.face.face_width == pytest.approx(FACE_WIDTH_FRACTION * 3040, rel=0.12)
    assert abs(a.face.face_center_x - 2028) < 120
    assert a.mask_small.shape[1] <= 1280


def test_rejects_non_rgb(analyzer):
    with pytest.raises(ValueError):
        analyzer.analyze(np.zeros((10, 10), np.uint8))
