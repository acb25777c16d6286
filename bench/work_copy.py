"""The still's work copy: an integer factor (4×4 block means) against the former 1280 px resize.

    .venv/bin/python bench/work_copy.py

For a few 4056×3040 scenes, analyses the still both ways (the former: INTER_AREA to 1280×960,
a fractional ratio; now: kiosk.photo.analysis.work_copy) and prints the measures the checks use
(eye line, face width, head top in still pixels; yaw, pitch, roll in degrees), the time of each
resize, and every check decision that differs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCENES = (dict(face="hopper"), dict(face="astronaut"), dict(face="hopper", dx=0.1, scale=0.8),
          dict(face="hopper", roll_deg=8))


def former_copy(rgb):
    h, w = rgb.shape[:2]
    s = min(1.0, 1280 / max(h, w))
    if s >= 1:
        return np.ascontiguousarray(rgb), 1
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA), 1 / s


def timed(fn, rgb, n=5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn(rgb)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> int:
    from kiosk.native_logs import hide_native_logs
    hide_native_logs()
    import kiosk.photo.analysis as A
    from kiosk.config import Config
    from kiosk.photo.checks import run_checks
    from kiosk.photo.crop import plan_crop
    from kiosk.sim.scenes import compose_scene

    config, now_copy = Config(), A.work_copy
    differ = 0
    for kw in SCENES:
        rgb = compose_scene(size=(4056, 3040), **kw)
        out = []
        for fn in (former_copy, now_copy):
            A.work_copy = fn
            with A.Analyzer() as analyzer:
                a = analyzer.analyze(rgb)
                plan = plan_crop(a)
                decisions = {c.id: c.status.value for c in run_checks(a, config, crop=plan)}
            f = a.face
            out.append(((f.eye_line_y, f.face_width, a.head_top_y, f.yaw, f.pitch, f.roll),
                        decisions, timed(fn, rgb)))
        A.work_copy = now_copy
        (m0, d0, t0), (m1, d1, t1) = out
        diff = {k: (d0[k], d1[k]) for k in d0 if d0[k] != d1[k]}
        differ += len(diff)
        names = ("eye line", "face width", "head top", "yaw", "pitch", "roll")
        print(f"{kw}: resize {t0:.0f} → {t1:.0f} ms; " + ", ".join(
            f"{n} {a:.1f}/{b:.1f}" for n, a, b in zip(names, m0, m1))
            + f"; decisions that differ: {diff or 'none'}")
    print(f"{differ} decisions differ over {len(SCENES)} stills (former / now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
