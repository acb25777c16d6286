"""Helpers for the handoff tests: real photos, valid students, check records."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from kiosk.photo.student import Student, id_check_char


def make_id_number(region: str = "110105", birth: str = "20020315", seq: int = 123) -> str:
    """A valid GB 11643 ID-card number (real check character)."""
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + id_check_char(first17)


def make_student(n: int, name: str = "", **kw) -> Student:
    return Student(student_id=f"2020{n:06d}", id_number=make_id_number(seq=n % 1000),
                   name=name or f"张{'一二三四五六七八九十'[n % 10]}{n}", college="计算机学院",
                   class_name=f"计科{2000 + n % 3}班", **kw)


_SOURCE: np.ndarray | None = None


def _base_photo(variant: int = 0) -> np.ndarray:
    """The astronaut (a real face) cropped to 3:4 and scaled to 480x640 (uniform scale only);
    ``variant`` moves the crop window a little so that different students get different
    pictures."""
    global _SOURCE
    if _SOURCE is None:
        from skimage import data
        _SOURCE = data.astronaut()                   # 512x512
    x0 = 40 + (variant % 7) * 8
    crop = _SOURCE[:, x0:x0 + 384]                   # 384 wide x 512 high = 3:4
    return np.asarray(Image.fromarray(crop).resize((480, 640), Image.Resampling.LANCZOS))


def photo_jpeg(variant: int = 0) -> bytes:
    """A real JPEG 480x640 at 300 dpi, different for each ``variant`` (crop window and a global
    brightness step)."""
    rgb = _base_photo(variant).astype(np.int16) + (variant % 17) - 8
    im = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=75, dpi=(300, 300))
    return out.getvalue()


def record(verdict: str = "pass", warn_ids: tuple[str, ...] = ()) -> dict:
    checks = [{"id": "file.dimensions", "status": "pass", "value": "480x640", "limit": "480x640",
               "message": {"zh": "", "en": ""}}]
    for wid in warn_ids:
        checks.append({"id": wid, "status": "warn", "value": 1.0, "limit": "x",
                       "message": {"zh": "请抬高下巴", "en": "Raise your chin a little"}})
    return {"verdict": verdict, "checks": checks}


KEY = bytes(range(32))      # a fixed registrar key for tests


def sealed_photo(student: Student, variant: int = 0, key: bytes = KEY,
                 captured_at=None) -> bytes:
    """A finished booth file for ``student``: size-searched JPEG with the sealed identity,
    made by the engine's own encoder from a real face (uniform scale, global brightness only).
    ``captured_at`` (aware datetime) is the capture time sealed in it (default: now)."""
    from kiosk.photo.engine import encode_and_seal
    rgb = _base_photo(variant).astype(np.int16) + (variant % 17) - 8
    jpeg, _ = encode_and_seal(np.clip(rgb, 0, 255).astype(np.uint8), student, key=key,
                              captured_at=captured_at)
    return jpeg


def verifies(data: bytes, student: Student, key: bytes = KEY) -> bool:
    """The engine's verifier on the file rules (no face models): may it be handed over?"""
    from kiosk.photo.verify import verify_bytes
    return verify_bytes(data, key=key, expected=student, analyzer=None, config=None).ok
