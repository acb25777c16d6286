"""Print every check's measured value on good and deliberately broken booth scenes.

The thresholds in kiosk/photo/checks/thresholds.py were chosen from this table: each sits between
the values of the good scenes (real photographs on the correct backdrop) and those of the
broken ones. Run:  python bench/calibrate_checks.py  [--rule ID]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from kiosk.config import Config  # noqa: E402
from kiosk.photo.analysis import Analyzer  # noqa: E402
from kiosk.photo.checks import ALL_RULE_IDS, run_checks  # noqa: E402
from kiosk.photo.crop import plan_crop  # noqa: E402
from kiosk.sim.scenes import compose_scene  # noqa: E402

GOOD = {
    "astronaut/blue": dict(face="astronaut", backdrop="blue"),
    "hopper/blue": dict(face="hopper", backdrop="blue"),
    "hopper/white": dict(face="hopper", backdrop="white"),
    "hopper/grey": dict(face="hopper", backdrop="grey"),
    "astronaut/grey": dict(face="astronaut", backdrop="grey"),
}
BROKEN = {
    "gradient": dict(face="hopper", gradient=0.3),
    "shadow": dict(face="hopper", shadow=0.5),
    "wrong backdrop": dict(face="hopper", backdrop="white"),      # installed: blue
    "side dark": dict(face="hopper", side_dark=0.5),
    "glare": dict(face="hopper", glare=True),
    "hotspot": dict(face="hopper", hotspot=True),
    "red eye": dict(face="hopper", red_eye=True),
    "sunglasses": dict(face="hopper", sunglasses=True),
    "blur": dict(face="hopper", blur=4.0),
    "roll 12": dict(face="hopper", roll_deg=12.0),
    "small": dict(face="hopper", scale=0.5),
    "second face": dict(face="hopper", second_face=True),
    "clutter": dict(face="hopper", clutter=True),
    "stripes": dict(face="hopper", stripes=True),
    "blue clothes": dict(face="hopper", clothing_rgb=(100, 197, 255)),
    "dark": dict(face="hopper", exposure=0.45),
    "cast": dict(face="hopper", backdrop="grey", cast=(1.08, 1.0, 0.88)),
    "earrings": dict(face="hopper", earrings=True),
    "lipstick": dict(face="hopper", lipstick=True),
    "fringe": dict(face="astronaut", fringe=True),
}


def installed_backdrop(name: str, kw: dict) -> str:
    return "blue" if name == "wrong backdrop" else kw.get("backdrop", "blue")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rule", action="append", help="only these rule ids")
    args = ap.parse_args()
    rules = args.rule or list(ALL_RULE_IDS)
    analyzer = Analyzer()
    rows = {}
    for name, kw in {**GOOD, **BROKEN}.items():
        cfg = Config()
        cfg.booth.backdrop = installed_backdrop(name, kw)
        analysis = analyzer.analyze(compose_scene(**kw))
        plan = plan_crop(analysis)
        res = {r.id: r for r in run_checks(analysis, cfg, crop=plan if plan.box else None, ids=rules)}
        rows[name] = res
    width = max(len(n) for n in rows)
    for rule in rules:
        print(f"\n{rule}")
        for name, res in rows.items():
            r = res[rule]
            kind = "good" if name in GOOD else "bad "
            print(f"  {kind} {name:<{width}}  {r.status.value:<7} {r.value}")
    analyzer.close()


if __name__ == "__main__":
    main()
