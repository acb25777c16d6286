"""Focus assist for the HQ camera's manual lens.

The technician turns the focus ring while the screen shows a sharpness score and the best score
seen so far (peak hold): turn until the score reaches the peak again and stop there. The score is
the variance of the Laplacian of the grey image — edges get stronger as the image gets sharper —
measured on the face when there is one (that is what must be sharp), else on the middle of the
frame (a grey card or a test chart held at the seat).

The score depends on what is in the region, so it is only compared with itself: the number that
matters is ``score / peak`` (1.0 = as sharp as it has been).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]   # x0, y0, x1, y1 in frame pixels


def sharpness(rgb: np.ndarray, box: Box | None = None) -> float:
    """Variance of the Laplacian of the grey image inside ``box`` (the whole frame if None)."""
    if box is not None:
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        x0, x1 = max(0, x0), min(w, x1)
        y0, y1 = max(0, y0), min(h, y1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return 0.0
        rgb = rgb[y0:y1, x0:x1]
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F, ksize=3).var())


def centre_box(shape: tuple[int, ...], fraction: float = 1 / 3) -> Box:
    """The middle ``fraction`` of the frame in each direction."""
    h, w = shape[:2]
    return (w * (1 - fraction) / 2, h * (1 - fraction) / 2, w * (1 + fraction) / 2, h * (1 + fraction) / 2)


def face_box(analysis) -> Box | None:
    """The face's landmark box from an :class:`~kiosk.photo.analysis.Analysis`, or None."""
    face = getattr(analysis, "face", None)
    return None if face is None else tuple(face.box)


@dataclass(frozen=True)
class FocusReading:
    score: float
    peak: float
    on_face: bool            # measured on the face (else on the centre of the frame)

    @property
    def ratio(self) -> float:
        """score / peak: 1.0 = as sharp as the best seen; the ring is past focus when it drops."""
        return self.score / self.peak if self.peak > 0 else 0.0

    @property
    def in_focus(self) -> bool:
        return self.ratio >= FocusAssist.IN_FOCUS_RATIO


class FocusAssist:
    """Live sharpness with peak hold. Feed it every preview frame with :meth:`update`.

    The score is smoothed over a few frames (sensor noise makes single frames jump), and the
    peak is the best smoothed score since :meth:`reset` (call it when the region changes a lot,
    e.g. a different person sits down).
    """

    IN_FOCUS_RATIO = 0.95
    SMOOTHING = 0.5          # weight of the newest frame

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._smoothed: float | None = None
        self.peak = 0.0

    def update(self, rgb: np.ndarray, analysis=None) -> FocusReading:
        box = face_box(analysis) if analysis is not None else None
        on_face = box is not None
        raw = sharpness(rgb, box if on_face else centre_box(rgb.shape))
        if self._smoothed is None:
            self._smoothed = raw
        else:
            self._smoothed = self.SMOOTHING * raw + (1 - self.SMOOTHING) * self._smoothed
        self.peak = max(self.peak, self._smoothed)
        return FocusReading(self._smoothed, self.peak, on_face)
