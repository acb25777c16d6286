"""Hardware abstraction layer: one small interface per device, a real driver and a fake.

Modelled on gpiozero's pin factories: the application asks for a device by role, and
configuration or the environment decides whether it gets the real driver or the fake.
"""

from __future__ import annotations

__all__ = ["open_devices", "Devices", "CameraError"]


def __getattr__(name: str):
    # Lazy, so `import hardware` stays cheap and never touches a driver (picamera2, gpiozero pins).
    if name in ("open_devices", "Devices"):
        from hardware import factory

        return getattr(factory, name)
    if name == "CameraError":
        from hardware.camera import CameraError

        return CameraError
    raise AttributeError(f"module 'hardware' has no attribute {name!r}")
