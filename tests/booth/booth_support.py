"""What several booth tests share: the demo student, a roster, a real JPEG, driving the loop."""

from __future__ import annotations

import time

import cv2

from kiosk.photo.student import Student
from kiosk.sim.scenes import compose_scene

LI = Student(student_id="2026010727", id_number="110105200303151236", name="李明")
ROSTER = "学号,姓名,身份证号\n2026010727,李明,110105200303151236\n".encode()
SIZES = [(1280, 800), (800, 1280), (800, 480)]      # landscape, portrait, a 7-inch screen


class Directory:
    """A roster that knows one student, whatever is scanned or typed."""

    def from_qr(self, data):
        return LI

    def from_number(self, n):
        return LI


def jpeg() -> bytes:
    """A real JPEG of a real face (Grace Hopper on the blue backdrop), 480×640."""
    rgb = compose_scene("hopper", size=(480, 640))
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def step_until(booth, cond, seconds: float = 60.0) -> bool:
    """Run the booth's loop until ``cond()`` holds; False if it never does within ``seconds``
    (a cap against a hang, generous for a busy machine: a passing test returns at once)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        booth.step()
        if cond():
            return True
    return False
