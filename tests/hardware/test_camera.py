"""The camera drivers: fake (photos, video, scripted scene), time limits, missing cameras."""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from hardware.camera import (
    CAMERA_FAILED,
    CAMERA_HUNG,
    CAMERA_MISSING,
    PREVIEW_SIZE,
    CameraError,
    call_with_timeout,
    crop_to_aspect,
    downscale,
)
from hardware.fake_camera import FakeCamera
from hardware.frame_sources import CallableSource, VideoSource
from kiosk.sim.scripted import ScriptedScene, student_walks_in


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def hopper() -> np.ndarray:
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


def test_preview_and_still_have_the_same_framing():
    astronaut = data.astronaut()                      # 512x512: cut to 4:3 for both streams
    cam = FakeCamera(astronaut)
    with cam:
        preview = cam.preview_frame()
        still = cam.capture_still()
    assert preview.shape == (PREVIEW_SIZE[1], PREVIEW_SIZE[0], 3) and preview.dtype == np.uint8
    assert still.shape == (384, 512, 3)
    assert cam.still_size == (512, 384)
    assert still.shape[1] / still.shape[0] == pytest.approx(4 / 3)
    # the preview is the still, downscaled: same framing, pixel for pixel
    assert np.abs(downscale(still, PREVIEW_SIZE).astype(int) - preview.astype(int)).max() == 0
    np.testing.assert_array_equal(still, crop_to_aspect(astronaut))


def test_frames_follow_the_clock_not_the_number_of_reads():
    clock = ManualClock()
    # a scene whose frame says the time: brightness = 10 * frame number
    scene = lambda t: np.full((480, 640, 3), int(round(t * 10)) * 10, np.uint8)
    cam = FakeCamera(scene, fps=10, clock=clock)
    cam.start()
    first = [cam.preview_frame()[0, 0, 0] for _ in range(50)]   # 50 reads, no time passed
    assert set(first) == {0}
    clock.now += 0.55
    assert cam.preview_frame()[0, 0, 0] == 50                    # frame 5, however many reads
    clock.now += 1.0
    assert cam.capture_still()[0, 0, 0] == 150
    cam.close()


def test_callable_source_runs_a_slow_scene_once_per_frame():
    calls = []

    def scene(t):
        calls.append(t)
        return np.zeros((30, 40, 3), np.uint8)

    src = CallableSource(scene, fps=5)
    for _ in range(20):
        src.frame_at(0.1)
    src.frame_at(0.3)
    assert calls == [0.0, 0.2]


def test_photo_folder_plays_each_photograph(tmp_path):
    Image.fromarray(data.astronaut()).save(tmp_path / "a.jpg", quality=95)
    Image.fromarray(hopper()).save(tmp_path / "b.png")
    (tmp_path / "notes.txt").write_text("not a photo")
    clock = ManualClock()
    cam = FakeCamera(tmp_path, clock=clock)
    cam.start()
    a = cam.capture_still()
    clock.now += 3.5                       # each photo is shown for 3 s
    b = cam.capture_still()
    assert a.shape == (384, 512, 3)
    assert b.shape[1] / b.shape[0] == pytest.approx(4 / 3, abs=0.01)
    assert np.abs(b.astype(int) - a.astype(int)).mean() > 30     # another photograph
    clock.now += 3.0                       # loops back to the first
    np.testing.assert_array_equal(cam.capture_still(), a)
    cam.close()


def test_video_file_plays_at_its_own_frame_rate(tmp_path):
    path = tmp_path / "walk.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    base = cv2.resize(data.astronaut(), (320, 240))
    for i in range(20):                    # the astronaut slides right 5 px a frame
        writer.write(cv2.cvtColor(np.roll(base, 5 * i, axis=1), cv2.COLOR_RGB2BGR))
    writer.release()
    src = VideoSource(path)
    assert src.fps == pytest.approx(10.0)
    f0, f7 = src.frame_at(0.0), src.frame_at(0.75)
    expected7 = np.roll(base, 35, axis=1)
    assert np.abs(f7.astype(int) - expected7.astype(int)).mean() < 6       # JPEG-coded frames
    assert np.abs(f7.astype(int) - f0.astype(int)).mean() > 20
    # after the end it loops; going back in time re-reads from the start
    assert np.abs(src.frame_at(2.0).astype(int) - f0.astype(int)).mean() < 1
    cam = FakeCamera(str(path))
    cam.start()
    assert cam.preview_frame().shape == (480, 640, 3)
    cam.close()
    src.close()


def test_scripted_scene_interpolates_compose_arguments():
    seen = []

    def compose(**kw):
        seen.append(kw)
        return np.zeros((kw["size"][1], kw["size"][0], 3), np.uint8)

    scene = ScriptedScene([(0, {"dx": 0.2, "scale": 0.6}), (4, {"dx": 0.0, "scale": 1.0})],
                          compose=compose, face="hopper", size=(800, 600))
    assert scene.arguments_at(-1)["dx"] == pytest.approx(0.2)
    mid = scene.arguments_at(2.0)
    assert mid["dx"] == pytest.approx(0.1) and mid["scale"] == pytest.approx(0.8)
    assert mid["face"] == "hopper"
    assert scene.arguments_at(10)["dx"] == 0.0
    scene(10.0)
    scene(11.0)                                  # holding still: composed once
    assert len(seen) == 1
    assert scene(10.0, size=(640, 480)).shape == (480, 640, 3)


def _subject_centre_x(rgb: np.ndarray) -> float:
    """Centre of the pixels that are not the blue backdrop, as a fraction of the width."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    person = ~((b > r + 40) & (b > g + 10))
    xs = np.nonzero(person)[1]
    return xs.mean() / rgb.shape[1]


def _subject_width(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    person = ~((b > r + 40) & (b > g + 10))
    cols = person[: rgb.shape[0] // 2].any(axis=0)      # the head and shoulders band
    return cols.sum() / rgb.shape[1]


def test_scripted_student_walks_from_a_bad_into_a_good_position():
    clock = ManualClock()
    cam = FakeCamera(student_walks_in("astronaut", "blue", settle_s=4.0), clock=clock)
    cam.start()
    start = cam.preview_frame()
    clock.now += 6.0
    settled = cam.preview_frame()
    still = cam.capture_still()
    cam.close()
    assert cam.still_size == (1440, 1080)
    assert _subject_centre_x(start) > _subject_centre_x(settled) + 0.1    # came in from the side
    assert abs(_subject_centre_x(settled) - 0.5) < 0.1                    # and is centred
    # the preview (drawn small) and the still (drawn big) are framed alike
    small = downscale(still, PREVIEW_SIZE)
    assert abs(_subject_centre_x(small) - _subject_centre_x(settled)) < 0.01
    assert np.abs(small.astype(int) - settled.astype(int)).mean() < 4


def test_missing_camera_raises_a_clear_error():
    cam = FakeCamera(data.astronaut(), fault="missing")
    with pytest.raises(CameraError) as err:
        cam.start()
    assert err.value.message is CAMERA_MISSING
    assert "相机" in err.value.message.zh and "camera" in err.value.message.en.lower()
    with pytest.raises(CameraError):
        FakeCamera("/nonexistent/folder/of/photos").start()


def test_hung_camera_raises_within_the_timeout():
    cam = FakeCamera(data.astronaut(), timeout=0.3)
    cam.start()
    cam.preview_frame()
    cam.fault = "hung"                          # the ribbon cable falls out mid-session
    t0 = time.monotonic()
    with pytest.raises(CameraError) as err:
        cam.preview_frame()
    took = time.monotonic() - t0
    assert err.value.message is CAMERA_HUNG
    # it waited for the timeout; returning at all is the proof that it does not wait longer
    # (a hung read blocks until close(), so a missing timeout would hang the test). No upper
    # bound in seconds: on a busy machine any figure would be a guess.
    assert took >= 0.25
    with pytest.raises(CameraError):
        cam.capture_still(timeout=0.2)
    cam.close()                                 # releases the stuck reader
    cam.fault = None
    cam.start()                                 # and the booth's restart works
    assert cam.preview_frame().shape == (480, 640, 3)
    cam.close()


def test_failing_read_is_a_camera_error_not_a_traceback():
    cam = FakeCamera(data.astronaut())
    cam.start()
    cam.fault = "broken"
    with pytest.raises(CameraError) as err:
        cam.capture_still()
    assert err.value.message is CAMERA_FAILED
    assert isinstance(err.value.__cause__, OSError)


def test_call_with_timeout_passes_results_and_errors():
    assert call_with_timeout(lambda: 42, 1.0, "answer") == 42
    with pytest.raises(CameraError) as err:
        call_with_timeout(lambda: time.sleep(5), 0.1, "sleepy read")
    assert "sleepy read" in str(err.value)


def test_reading_before_start_is_an_error():
    with pytest.raises(CameraError):
        FakeCamera(data.astronaut()).preview_frame()


def test_webcam_missing_is_a_clear_error():
    from hardware.webcam_camera import WebcamCamera

    cam = WebcamCamera(97, timeout=5.0)          # no /dev/video97 here
    with pytest.raises(CameraError) as err:
        cam.start()
    assert err.value.message is CAMERA_MISSING
    cam.close()


def test_webcam_driver_reads_frames_framed_alike(tmp_path):
    """The webcam driver's real read path, on a stream OpenCV opens without a device: a video."""
    from hardware.webcam_camera import WebcamCamera

    path = tmp_path / "webcam.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 360))  # 16:9
    frame = cv2.resize(hopper(), (640, 360))
    for _ in range(5):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    cam = WebcamCamera(str(path), timeout=5.0)
    cam.start()
    still = cam.capture_still()
    preview = cam.preview_frame()
    cam.close()
    assert cam.still_size == (480, 360) and still.shape == (360, 480, 3)    # 16:9 cut to 4:3
    assert preview.shape == (480, 640, 3)
    expected = crop_to_aspect(frame)
    assert np.abs(still.astype(int) - expected.astype(int)).mean() < 6        # RGB, not BGR
    assert np.abs(downscale(still, PREVIEW_SIZE).astype(int) - preview.astype(int)).mean() < 6


def test_picamera_without_picamera2_says_so(monkeypatch):
    from hardware.picamera_camera import PiCamera

    monkeypatch.setitem(sys.modules, "picamera2", None)     # import picamera2 -> ImportError
    with pytest.raises(CameraError) as err:
        PiCamera().start()
    assert err.value.message is CAMERA_MISSING
    assert "picamera2" in err.value.detail
