"""Analysis of real faces composed into booth scenes: geometry, head pose signs, people count."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.photo.analysis import Analysis, head_pose
from kiosk.sim.scenes import FACE_WIDTH_FRACTION, compose_scene


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


def test_live_pose_every_nth_frame_reuses_the_shoulders_with_their_age():
    from kiosk.photo.analysis import Analyzer
    rgb = compose_scene("hopper", "blue", size=(640, 480))
    with Analyzer(video=True, pose_every=3) as tracker:
        runs = [tracker.analyze(rgb) for _ in range(5)]
        assert [r.shoulders_age for r in runs] == [0, 1, 2, 0, 1]
        # Pose ran exactly on the frames whose shoulders are fresh
        assert [("pose" in r.timings_ms) for r in runs] == [True, False, False, True, False]
        assert runs[0].shoulders is not None and runs[1].shoulders == runs[0].shoulders
        # a frame of another size never gets shoulders measured on the old one
        other = tracker.analyze(compose_scene("hopper", "blue", size=(800, 600)))
        assert other.shoulders_age == 0 and other.shoulders[0][0] > 400


def test_scene_body_continues_smoothly_below_the_photo():
    # A student far from the camera: the body is extended below the photograph's bottom
    # edge. It must reach the frame's bottom edge, keep its width, and not streak (the old
    # extension repeated the last row: every button and seam became a vertical line).
    from kiosk.sim.scenes import EYE_LINE_FRACTION, cutout
    w, h, scale = 1440, 1080, 0.5
    rgb = compose_scene("hopper", "blue", size=(w, h), scale=scale).astype(np.float32)
    cut = cutout("hopper")
    s = FACE_WIDTH_FRACTION * h * scale / cut.face_width
    photo_bottom = EYE_LINE_FRACTION * h + (cut.rgb.shape[0] / 2 - cut.face_center[1]) * s
    assert photo_bottom < h - 100                     # the extension is in view
    blue = np.array([100, 197, 255], np.float32)
    body = np.abs(rgb - blue).sum(axis=2) > 60
    edge_row, low_row = int(photo_bottom) - 3, h - 1
    width_at_edge, width_low = body[edge_row].sum(), body[low_row].sum()
    assert width_low > 0.9 * width_at_edge             # reaches the bottom, as wide
    cols = np.nonzero(body[low_row])[0]
    inner = rgb[int(photo_bottom) + 20:, cols[0] + 10:cols[-1] - 10].mean(axis=2)
    # neighbouring columns of the extension differ by less than a grey level on average
    # (smooth cloth; repeating the last row gave 4.3)
    assert np.abs(np.diff(inner, axis=1)).mean() < 1.0


def test_silhouette_blobs_and_their_areas_whatever_the_count(scenes):
    """One blob is counted without a pass over the labels, several label by label, reused
    buffers or not: the same labels and areas as counting every label."""
    import cv2

    from kiosk.photo.analysis import _blobs

    _, a, _ = scenes(face="hopper", second_face=True)
    person = a.mask_small
    assert person is not None
    h, w = person.shape
    quarters = person.copy()                  # cut in four: several blobs
    quarters[:, w // 2 - 2:w // 2 + 2] = 0
    quarters[h // 2 - 2:h // 2 + 2, :] = 0
    empty = np.zeros_like(person)
    buffers = (np.empty(person.shape, np.uint8), np.empty(person.shape, np.int32))
    counts = set()
    for mask in (person, quarters, empty):
        expected_n, expected = cv2.connectedComponents((mask >= 0.5).astype(np.uint8), connectivity=8)
        for bufs in (None, buffers):
            n, labels, areas = _blobs(mask, bufs)
            assert n == expected_n and np.array_equal(labels, expected)
            assert areas.tolist() == np.bincount(expected.ravel(), minlength=n).tolist()
        counts.add(n)
    assert {1, 2} <= counts and max(counts) >= 4    # nobody, one blob and several: all tried
