"""What the head measures cost on the live path: one 640×480 preview frame, judged in the crop.

Prints the median time of building the head view and of each head rule (headwear, jewellery,
hair) on labelled real faces, after the models (which are not counted). Run:
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
    times: dict[str, list[float]] = {"head view": [], "attire.headwear": [], "attire.jewelry": [],
                                     "occlusion.hair": []}
    with Analyzer() as analyzer:
        for face in FACES:
            frame = compose_scene(face, "blue", size=(640, 480))
            analysis = analyzer.analyze(frame)
            plan = plan_crop(analysis)
            for _ in range(args.repeat):
                ctx = CheckContext(analysis, None, plan if plan.box else None)
                _ = ctx.backdrop_lab_median          # shared with the backdrop checks: not counted
                t0 = time.perf_counter()
                _ = ctx.head
                t1 = time.perf_counter()
                times["head view"].append((t1 - t0) * 1e3)
                for rule, check in (("attire.headwear", attire.headwear),
                                    ("attire.jewelry", attire.jewelry),
                                    ("occlusion.hair", attire.hair)):
                    t = time.perf_counter()
                    check(ctx)
                    times[rule].append((time.perf_counter() - t) * 1e3)
    total = 0.0
    for name, v in times.items():
        med = statistics.median(v)
        total += med
        print(f"{name:<18} {med:6.2f} ms  (median of {len(v)})")
    print(f"{'together':<18} {total:6.2f} ms per 640×480 preview frame")


if __name__ == "__main__":
    main()
