"""What the head measures cost on the live path: one 640×480 preview frame, judged in the crop.

Prints the median time of building the head view and of each head rule (headwear, jewellery,
hair) on labelled real faces, after the models (which are not counted): wall-clock and the
process's CPU time (the steadier figure on a busy machine), OpenCV on one thread. Run:
    python bench/head_measures.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from kiosk.photo.analysis import Analyzer  # noqa: E402
from kiosk.photo.checks import attire  # noqa: E402
from kiosk.photo.checks.context import CheckContext  # noqa: E402
from kiosk.photo.crop import plan_crop  # noqa: E402
from kiosk.sim import faces  # noqa: E402
from kiosk.sim.scenes import compose_scene  # noqa: E402

FACES = ("franck-front", "grace-hopper", "obama", "pyfeat-f15", "queen")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    if not faces.labels():
        sys.exit(f"no labelled faces in {faces.LABELS}: run `make setup` (tools/fetch-faces)")
    import cv2
    cv2.setNumThreads(1)
    names = ("head view", "attire.headwear", "attire.jewelry", "occlusion.hair")
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    with Analyzer() as analyzer:
        for face in FACES:
            frame = compose_scene(face, "blue", size=(640, 480))
            analysis = analyzer.analyze(frame)
            plan = plan_crop(analysis)
            for _ in range(args.repeat):
                ctx = CheckContext(analysis, None, plan if plan.box else None)
                _ = ctx.backdrop_lab_median          # shared with the backdrop checks: not counted
                t0, c0 = time.perf_counter(), time.process_time()
                _ = ctx.head
                times["head view"].append((time.perf_counter() - t0) * 1e3)
                cpu["head view"].append((time.process_time() - c0) * 1e3)
                for rule, check in (("attire.headwear", attire.headwear),
                                    ("attire.jewelry", attire.jewelry),
                                    ("occlusion.hair", attire.hair)):
                    t, c = time.perf_counter(), time.process_time()
                    check(ctx)
                    times[rule].append((time.perf_counter() - t) * 1e3)
                    cpu[rule].append((time.process_time() - c) * 1e3)
    total = total_cpu = 0.0
    print(f"{'':<18} {'wall':>8} {'cpu':>8}   (medians of {len(times['head view'])} runs)")
    for name in names:
        w, c = statistics.median(times[name]), statistics.median(cpu[name])
        total, total_cpu = total + w, total_cpu + c
        print(f"{name:<18} {w:6.2f} ms {c:6.2f} ms")
    print(f"{'together':<18} {total:6.2f} ms {total_cpu:6.2f} ms per 640×480 preview frame")


if __name__ == "__main__":
    main()
