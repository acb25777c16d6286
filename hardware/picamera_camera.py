"""The Raspberry Pi HQ camera (IMX477) through picamera2.

picamera2 comes from apt on the Pi (``python3-picamera2``) and is imported only inside
:meth:`PiCamera.start`, so the package imports anywhere.

How the two streams are kept framed alike
    The still is the sensor's full resolution (4056×3040 on the IMX477). The preview runs a
    *binned* sensor mode that still covers the whole sensor (2028×1520 on the IMX477, 40 fps),
    scaled by the ISP to 640×480. Both configurations set ``ScalerCrop`` to the same rectangle
    (the full sensor area), so the preview shows exactly the area of the still. The 4:3 output
    differs from the sensor's 4056:3040 by under 0.1 % (three sensor pixels of width).

Why exposure and white balance are fixed
    The booth is lit by its own 5500 K panels; auto exposure and auto white balance would drift
    with the student's clothes and the backdrop. The calibrated ``ExposureTime``,
    ``AnalogueGain`` and ``ColourGains`` are applied to both configurations with ``AeEnable``
    and ``AwbEnable`` off, so the preview judged by live guidance looks like the still.

Time limits
    Every request goes through picamera2's job queue with ``wait=False`` and is collected with
    ``Picamera2.wait(job, timeout=...)``; a camera that stops answering raises
    :class:`~hardware.camera.CameraError` instead of blocking the booth.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hardware.camera import (
    CAMERA_FAILED,
    CAMERA_HUNG,
    CAMERA_MISSING,
    PREVIEW_SIZE,
    Camera,
    CameraError,
    call_with_timeout,
)

log = logging.getLogger(__name__)


class PiCamera(Camera):
    """The CSI camera, with fixed exposure and white balance from the calibration.

    :param exposure_time_us: ``ExposureTime`` in microseconds.
    :param analogue_gain: ``AnalogueGain``.
    :param colour_gains: ``ColourGains`` (red, blue) — the white balance for the panels.
    """

    def __init__(self, *, camera_num: int = 0, timeout: float = 5.0,
                 exposure_time_us: int = 10000, analogue_gain: float = 1.0,
                 colour_gains: tuple[float, float] = (2.0, 1.6),
                 preview_size: tuple[int, int] = PREVIEW_SIZE) -> None:
        super().__init__(timeout=timeout)
        self.camera_num = camera_num
        self.preview_size = preview_size
        self.controls: dict[str, Any] = {
            "AeEnable": False,
            "AwbEnable": False,
            "ExposureTime": int(exposure_time_us),
            "AnalogueGain": float(analogue_gain),
            "ColourGains": (float(colour_gains[0]), float(colour_gains[1])),
        }
        self._cam = None
        self._preview_config: dict | None = None
        self._still_config: dict | None = None
        self.scaler_crop: tuple[int, int, int, int] | None = None

    # --- start ------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._cam is not None:
            return
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraError(CAMERA_MISSING, "picamera2 is not installed (apt python3-picamera2)") from exc
        if not Picamera2.global_camera_info():
            raise CameraError(CAMERA_MISSING, "no camera on the CSI port (check the ribbon cable)")
        try:
            cam = Picamera2(self.camera_num)
        except (RuntimeError, IndexError, OSError) as exc:
            raise CameraError(CAMERA_MISSING, f"camera {self.camera_num} cannot be opened: {exc}") from exc
        try:
            self._configure(cam)
        except CameraError:
            cam.close()
            raise
        except Exception as exc:  # libcamera raises RuntimeError and friends; say so clearly
            cam.close()
            raise CameraError(CAMERA_FAILED, f"camera configuration failed: {exc!r}") from exc
        self._cam = cam

    def _configure(self, cam) -> None:
        full = tuple(cam.sensor_resolution)
        still = cam.create_still_configuration(
            main={"size": full, "format": "BGR888"},   # picamera2's BGR888 is R,G,B in memory
            raw={"size": full}, buffer_count=2, controls=dict(self.controls))
        cam.configure(still)
        crop = tuple(cam.camera_controls["ScalerCrop"][1])   # the largest crop: the whole sensor
        mode = self._full_view_mode(cam, crop, full)
        preview = cam.create_preview_configuration(
            main={"size": self.preview_size, "format": "BGR888"},
            raw={"size": mode["size"], "format": str(mode["format"])},
            buffer_count=4, controls=dict(self.controls, ScalerCrop=crop))
        still["controls"]["ScalerCrop"] = crop
        cam.configure(preview)
        cam.start()
        self._preview_config, self._still_config = preview, still
        self._still_size = (int(still["main"]["size"][0]), int(still["main"]["size"][1]))
        self.scaler_crop = crop
        metadata = self._wait(cam, cam.capture_metadata(wait=False), "first frame")
        if tuple(metadata.get("ScalerCrop", crop)) != crop:
            log.warning("camera reports ScalerCrop %s, asked for %s: preview framing may differ",
                        metadata.get("ScalerCrop"), crop)
        log.info("camera started: still %s, preview %s from sensor mode %s, crop %s",
                 self._still_size, self.preview_size, mode["size"], crop)

    def _full_view_mode(self, cam, crop: tuple, full: tuple) -> dict:
        """The fastest sensor mode that sees the whole sensor (binned), else the full mode."""
        candidates = [m for m in cam.sensor_modes
                      if tuple(m.get("crop_limits", ())) == crop
                      and m["size"][0] >= self.preview_size[0] and m["size"][1] >= self.preview_size[1]]
        if not candidates:
            log.warning("no binned full-view sensor mode: preview runs the full-resolution mode")
            return {"size": full, "format": cam.sensor_format}
        return max(candidates, key=lambda m: (m.get("fps", 0), -m["size"][0]))

    # --- controls ---------------------------------------------------------------------------------

    def set_controls(self, *, exposure_time_us: int | None = None, analogue_gain: float | None = None,
                     colour_gains: tuple[float, float] | None = None) -> dict[str, Any]:
        """Change the fixed exposure and white balance while the camera runs (the technician's
        exposure/white-balance page); values left ``None`` stay. Returns the controls sent.

        They go to the running camera (picamera2 ``set_controls``; they take effect a few frames
        later) and into both configurations, so the next burst's stills and the preview after it
        keep them. Auto exposure and auto white balance stay off.
        """
        new: dict[str, Any] = {}
        if exposure_time_us is not None:
            new["ExposureTime"] = int(exposure_time_us)
        if analogue_gain is not None:
            new["AnalogueGain"] = float(analogue_gain)
        if colour_gains is not None:
            new["ColourGains"] = (float(colour_gains[0]), float(colour_gains[1]))
        if not new:
            return new
        new.update(AeEnable=False, AwbEnable=False)
        self.controls.update(new)
        for config in (self._preview_config, self._still_config):
            if config is not None:
                config["controls"].update(new)
        if self._cam is not None:
            try:
                self._cam.set_controls(dict(new))
            except Exception as exc:
                raise CameraError(CAMERA_FAILED, f"set_controls {new}: {exc!r}") from exc
        log.info("camera controls: %s", new)
        return new

    # --- frames -----------------------------------------------------------------------------------

    def _wait(self, cam, job, what: str, timeout: float | None = None):
        timeout = self.timeout if timeout is None else timeout
        try:
            return cam.wait(job, timeout=timeout)
        except TimeoutError as exc:
            raise CameraError(CAMERA_HUNG, f"{what}: no answer in {timeout:.1f} s") from exc
        except Exception as exc:
            raise CameraError(CAMERA_FAILED, f"{what}: {exc!r}") from exc

    def _camera(self):
        if self._cam is None:
            raise CameraError(CAMERA_FAILED, "camera not started")
        return self._cam

    def preview_frame(self, timeout: float | None = None) -> np.ndarray:
        cam = self._camera()
        frame = self._wait(cam, cam.capture_array("main", wait=False), "preview frame", timeout)
        return frame[:, :, :3]

    def capture_still(self, timeout: float | None = None) -> np.ndarray:
        cam = self._camera()
        job = cam.switch_mode_and_capture_array(self._still_config, "main", wait=False)
        return self._wait(cam, job, "still capture", timeout)[:, :, :3]

    def capture_burst(self, count: int, timeout: float | None = None) -> list[np.ndarray]:
        """Switch to the full-resolution mode once, take ``count`` stills, switch back."""
        cam = self._camera()
        self._wait(cam, cam.switch_mode(self._still_config, wait=False), "switch to still mode", timeout)
        try:
            return [self._wait(cam, cam.capture_array("main", wait=False), "still capture", timeout)[:, :, :3]
                    for _ in range(count)]
        finally:
            self._wait(cam, cam.switch_mode(self._preview_config, wait=False), "switch to preview", timeout)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return

        def stop_and_close() -> None:
            cam.stop()
            cam.close()

        # A camera that has gone away may not even answer "stop": never let that block the booth.
        try:
            call_with_timeout(stop_and_close, self.timeout, "camera close")
        except CameraError as exc:
            log.error("camera close failed: %s", exc)
