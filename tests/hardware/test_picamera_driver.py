"""PiCamera's use of picamera2, checked against a stand-in with picamera2's API surface.

There is no camera (nor libcamera) on a test machine, so this is the one place a library is
replaced: ``StandInPicamera2`` answers the calls PiCamera makes (configurations as dicts, jobs
collected with ``wait(job, timeout)``, the IMX477's sensor modes) so that the framing, the fixed
exposure and the time limits are checked. On the Pi the same driver runs on the real picamera2.
"""

from __future__ import annotations

import sys
import types
from concurrent.futures import Future

import numpy as np
import pytest

from hardware.camera import CAMERA_HUNG, CAMERA_MISSING, CameraError
from hardware.picamera_camera import PiCamera

FULL = (4056, 3040)
FULL_CROP = (0, 0, 4056, 3040)


class StandInPicamera2:
    cameras = [{"Model": "imx477", "Num": 0, "Id": "/base/soc/i2c0mux/i2c@1/imx477@1a"}]
    hang = False
    instances: list = []

    @staticmethod
    def global_camera_info():
        return list(StandInPicamera2.cameras)

    def __init__(self, camera_num=0):
        if not self.cameras:
            raise IndexError("list index out of range")   # what picamera2 does with no camera
        self.sensor_resolution = FULL
        self.sensor_format = "SRGGB12_CSI2P"
        self.sensor_modes = [   # the IMX477's modes as picamera2 lists them
            {"size": (1332, 990), "format": "SRGGB10_CSI2P", "fps": 120.03, "crop_limits": (696, 528, 2664, 1980)},
            {"size": (2028, 1080), "format": "SRGGB12_CSI2P", "fps": 50.03, "crop_limits": (0, 440, 4056, 2160)},
            {"size": (2028, 1520), "format": "SRGGB12_CSI2P", "fps": 40.01, "crop_limits": FULL_CROP},
            {"size": FULL, "format": "SRGGB12_CSI2P", "fps": 10.0, "crop_limits": FULL_CROP},
        ]
        self.camera_controls = {"ScalerCrop": ((0, 0, 64, 64), FULL_CROP, (2, 0, 4052, 3040))}
        self.config = None
        self.started = False
        self.closed = False
        self.switches = []
        self.controls_set = []
        StandInPicamera2.instances.append(self)

    def _config(self, main, lores=None, raw=None, buffer_count=1, controls=None, **_):
        return {"main": dict(main), "raw": dict(raw or {}), "buffer_count": buffer_count,
                "controls": dict(controls or {})}

    create_still_configuration = _config
    create_preview_configuration = _config

    def configure(self, config):
        self.config = config

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True

    def _job(self, fn):
        job = Future()
        if not self.hang:
            job.set_result(fn())
        return job

    def wait(self, job, timeout=None):
        return job.result(timeout)      # concurrent.futures: TimeoutError, like picamera2's Job

    def _array(self, config):
        w, h = config["main"]["size"]
        return np.full((h, w, 3), 128, np.uint8)

    def capture_metadata(self, wait=None):
        return self._job(lambda: {"ScalerCrop": self.config["controls"].get("ScalerCrop")})

    def capture_array(self, name="main", wait=None):
        return self._job(lambda: self._array(self.config))

    def switch_mode_and_capture_array(self, config, name="main", wait=None):
        self.switches.append(config)
        return self._job(lambda: self._array(config))

    def set_controls(self, controls):
        self.controls_set.append(dict(controls))

    def switch_mode(self, config, wait=None):
        self.switches.append(config)

        def switch():
            self.config = config
            return config

        return self._job(switch)


@pytest.fixture
def picamera2(monkeypatch):
    module = types.ModuleType("picamera2")
    module.Picamera2 = StandInPicamera2
    monkeypatch.setitem(sys.modules, "picamera2", module)
    StandInPicamera2.cameras = list(StandInPicamera2.cameras or [{"Num": 0, "Id": "imx477"}])
    StandInPicamera2.hang = False
    StandInPicamera2.instances = []
    yield StandInPicamera2
    StandInPicamera2.hang = False


def test_preview_and_still_share_the_whole_sensor_crop(picamera2):
    cam = PiCamera(exposure_time_us=8000, analogue_gain=1.5, colour_gains=(2.1, 1.7), timeout=1)
    cam.start()
    pc = picamera2.instances[-1]
    preview, still = cam._preview_config, cam._still_config
    assert preview["main"]["size"] == (640, 480) and still["main"]["size"] == FULL
    assert preview["main"]["format"] == still["main"]["format"] == "BGR888"   # R,G,B in memory
    # the binned mode that sees the whole sensor, not the faster cropped ones
    assert preview["raw"]["size"] == (2028, 1520)
    assert preview["controls"]["ScalerCrop"] == still["controls"]["ScalerCrop"] == FULL_CROP
    for config in (preview, still):
        c = config["controls"]
        assert c["AeEnable"] is False and c["AwbEnable"] is False
        assert c["ExposureTime"] == 8000 and c["AnalogueGain"] == 1.5
        assert c["ColourGains"] == (2.1, 1.7)
    assert pc.started and pc.config is preview
    assert cam.still_size == FULL
    assert cam.preview_to_still() == pytest.approx(4056 / 640)
    assert cam.preview_frame().shape == (480, 640, 3)
    assert cam.capture_still().shape == (3040, 4056, 3)
    burst = cam.capture_burst(3)
    assert len(burst) == 3 and all(b.shape == (3040, 4056, 3) for b in burst)
    assert pc.config is preview                               # back to preview after the burst
    cam.close()
    assert pc.closed


def test_no_camera_on_the_port(picamera2):
    picamera2.cameras = []
    with pytest.raises(CameraError) as err:
        PiCamera().start()
    assert err.value.message is CAMERA_MISSING
    assert "CSI" in err.value.detail


def test_hung_camera_times_out(picamera2):
    cam = PiCamera(timeout=0.3)
    cam.start()
    picamera2.hang = True
    with pytest.raises(CameraError) as err:
        cam.preview_frame()       # the stand-in hangs until released: returning is the proof
    assert err.value.message is CAMERA_HUNG
    with pytest.raises(CameraError):
        cam.capture_still(timeout=0.2)
    cam.close()


def test_camera_hung_at_start_is_released(picamera2):
    picamera2.hang = True
    with pytest.raises(CameraError):
        PiCamera(timeout=0.2).start()
    assert picamera2.instances[-1].closed


def test_set_controls_reaches_the_running_camera_and_both_configurations(picamera2):
    """The technician's exposure/white-balance page (kiosk.technician.screens.port_of) finds
    ``set_controls`` and changes the running camera, and the next burst keeps the values."""
    from kiosk.technician.camera_calibration import CameraSettings
    from kiosk.technician.screens import port_of

    cam = PiCamera(timeout=1)
    cam.start()
    pc = picamera2.instances[-1]
    sent = cam.set_controls(exposure_time_us=12500.4, analogue_gain=2, colour_gains=(2.3, 1.4))
    assert pc.controls_set == [sent]
    assert sent["ExposureTime"] == 12500 and sent["AnalogueGain"] == 2.0
    assert sent["ColourGains"] == (2.3, 1.4)
    assert sent["AeEnable"] is False and sent["AwbEnable"] is False
    for config in (cam._preview_config, cam._still_config):
        assert config["controls"]["ExposureTime"] == 12500
        assert config["controls"]["ColourGains"] == (2.3, 1.4)
    cam.capture_burst(1)
    assert pc.switches[0]["controls"]["AnalogueGain"] == 2.0      # the stills use them
    assert cam.set_controls() == {} and len(pc.controls_set) == 1  # nothing to change

    port = port_of(types.SimpleNamespace(camera=cam, lights=None, usb=None), None)
    assert port.set_camera_controls is not None
    port.set_camera_controls(CameraSettings(8000, 1.0, (1.9, 1.7)))
    assert pc.controls_set[-1]["ExposureTime"] == 8000
    assert pc.controls_set[-1]["ColourGains"] == (1.9, 1.7)
    cam.close()
