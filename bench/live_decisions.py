"""Does the fast live path decide what the validator decides? A dump of both on a set of scenes.

    .venv/bin/python bench/live_decisions.py [--json]

For every scene (a real photograph composed on the backdrop with one thing changed: position,
size, tilt, light, glasses, clothes, a second person, ...) at the preview's 640×480:

* validator: the still path recomputed on that frame: an ``Analyzer()`` for independent images
  (every model on the frame), the crop plan, every rule judged in the 480×640 crop;
* before: the live path as it was: a tracking analyzer looking for two faces, FaceDetection on
  every frame, Pose on every 4th (Pose itself now runs on single images everywhere), and every
  rule judged in the crop upsampled to 480×640;
* after: the live path now (kiosk.booth.workers.guide_frame with the booth's live analyzer
  and LiveChecks: tracking, amortised models, the preview's own resolution, pixel rules held).

Both live paths see the scene for a few frames first (tracking settles, as in front of the
booth). Each blocking rule's status is compared with the validator's; the differences are
printed (scene, rule, validator → live, values), then a summary line. Advisory rules are not
judged live, so they are not compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PREVIEW = (640, 480)
STILL = (4056, 3040)
FRAMES = 4           # frames of each scene the live paths see; the last one is compared

#: name → (compose_scene keyword arguments, backdrop of the config)
SCENES: dict[str, tuple[dict, str]] = {
    "good": (dict(face="hopper"), "blue"),
    "good astronaut": (dict(face="astronaut"), "blue"),
    "white backdrop": (dict(face="hopper", backdrop="white"), "white"),
    "grey backdrop": (dict(face="astronaut", backdrop="grey"), "grey"),
    "left": (dict(face="hopper", dx=-0.12), "blue"),
    "right": (dict(face="hopper", dx=0.12), "blue"),
    "high": (dict(face="hopper", dy=-0.08), "blue"),
    "low": (dict(face="hopper", dy=0.12), "blue"),
    "far": (dict(face="hopper", scale=0.55), "blue"),
    "close": (dict(face="hopper", scale=1.5), "blue"),
    "tilted": (dict(face="hopper", roll_deg=12), "blue"),
    "tilted other way": (dict(face="astronaut", roll_deg=-10), "blue"),
    "gradient": (dict(face="hopper", gradient=0.7), "blue"),
    "shadow": (dict(face="hopper", shadow=0.8), "blue"),
    "side dark": (dict(face="hopper", side_dark=0.6), "blue"),
    "dark": (dict(face="hopper", exposure=0.45), "blue"),
    "bright": (dict(face="hopper", exposure=1.7), "blue"),
    "colour cast": (dict(face="hopper", cast=(1.25, 1.0, 0.75)), "blue"),
    "glare": (dict(face="hopper", glare=True), "blue"),
    "hot spot": (dict(face="hopper", hotspot=True), "blue"),
    "red eye": (dict(face="astronaut", red_eye=True), "blue"),
    "sunglasses": (dict(face="hopper", sunglasses=True), "blue"),
    "blur": (dict(face="hopper", blur=3.0), "blue"),
    "stripes": (dict(face="hopper", stripes=True), "blue"),
    "blue clothes": (dict(face="hopper", clothing_rgb=(90, 150, 230)), "blue"),
    "second face": (dict(face="hopper", second_face=True), "blue"),
    "clutter": (dict(face="hopper", clutter=True), "blue"),
    "noise": (dict(face="astronaut", noise=10.0), "blue"),
}


def scene_frame(name: str):
    from kiosk.sim.scenes import compose_scene

    kwargs, _ = SCENES[name]
    return compose_scene(size=PREVIEW, **kwargs)


def config_for(backdrop: str):
    from kiosk.config import Config

    config = Config()
    config.booth.backdrop = backdrop
    return config


def validator_decisions(analyzer, frame, config) -> dict:
    """The still path on this frame: every rule in the 480×640 crop, {rule: (status, value)}."""
    from kiosk.photo.checks import run_checks
    from kiosk.photo.crop import plan_crop

    analysis = analyzer.analyze(frame, source_size=STILL)
    return {r.id: (r.status.value, r.value) for r in run_checks(analysis, config, crop=plan_crop(analysis))}


def before_decisions(frame, config) -> dict:
    """The live path as it was: tracking (two faces, every frame detected, Pose every 4th)
    and every rule judged in the crop upsampled to 480×640."""
    from kiosk.photo.analysis import Analyzer
    from kiosk.photo.checks import run_checks
    from kiosk.photo.crop import plan_crop

    with Analyzer(video=True, pose_every=4, max_faces=2) as analyzer:
        for _ in range(FRAMES):
            analysis = analyzer.analyze(frame, source_size=STILL)
            results = run_checks(analysis, config, crop=plan_crop(analysis))
    return {r.id: (r.status.value, r.value) for r in results}


def live_decisions(frame, config) -> dict:
    from kiosk.booth.workers import LiveChecks, guide_frame, live_analyzer

    checks = LiveChecks()
    with live_analyzer() as analyzer:
        for _ in range(FRAMES):
            _, _, results, _ = guide_frame(analyzer, frame, config, STILL, checks)
    return {r.id: (r.status.value, r.value) for r in results}


def compare(names=None) -> dict:
    """{"rows": [(scene, rule, validator, before, after, values)], "compared": n, ...}."""
    from kiosk.photo.analysis import Analyzer

    rows, compared, before_diff, after_diff = [], 0, 0, 0
    with Analyzer() as still_analyzer:
        for name in names or SCENES:
            frame = scene_frame(name)
            config = config_for(SCENES[name][1])
            val = validator_decisions(still_analyzer, frame, config)
            old = before_decisions(frame, config)
            new = live_decisions(frame, config)
            for rule, (status, value) in new.items():
                compared += 1
                b = old[rule][0]
                before_diff += b != val[rule][0]
                after_diff += status != val[rule][0]
                if status != val[rule][0] or b != val[rule][0]:
                    rows.append((name, rule, val[rule][0], b, status,
                                 (val[rule][1], old[rule][1], value)))
    return {"rows": rows, "compared": compared, "scenes": len(names or SCENES),
            "differ_before": before_diff, "differ_after": after_diff}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from kiosk.native_logs import hide_native_logs
    hide_native_logs()
    r = compare()
    if args.json:
        print(json.dumps(r, default=str))
        return 0
    print(f"Live decisions against the validator: {r['scenes']} scenes, {r['compared']} "
          "rule decisions each")
    print(f"  {'scene':18s} {'rule':22s} {'validator':9s} {'before':7s} {'after':7s} "
          "values (validator / before / after)")
    for name, rule, val, before, after, values in r["rows"]:
        vals = " / ".join("-" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))
                          for v in values)
        print(f"  {name:18s} {rule:22s} {val:9s} {before:7s} {after:7s} {vals}")
    print(f"differ from the validator: before {r['differ_before']}, after {r['differ_after']} "
          f"of {r['compared']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
