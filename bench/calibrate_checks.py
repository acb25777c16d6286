"""Per rule, how the checks answer on the labelled real faces: the table thresholds come from.

Every face of tests/data/faces.json (fetched by ``make setup``) is composed into a booth
capture (kiosk.sim.scenes, blue backdrop, judged in the crop the booth would save) and checked.
Derived broken versions (labelled "derived": small metal studs at the ear lobes, the person's
own hair moved over the brows) are added for faces that face the camera. Against the labels:

* true-fail: the share of faces WITH the problem that fail (higher is better);
* missed: the share of faces with the problem that PASS (the dangerous number: should be 0);
* false-fail: the share of faces WITHOUT the problem that fail;
* unknown: the share of all faces the measure could not decide (the student confirms).

Run:  python bench/calibrate_checks.py [--values] [--rule ID] [--no-derived] [--frontal] [--markdown]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from kiosk.config import Config  # noqa: E402
from kiosk.photo.analysis import Analyzer  # noqa: E402
from kiosk.photo.checks import ALL_RULE_IDS, run_checks  # noqa: E402
from kiosk.photo.checks.result import Status  # noqa: E402
from kiosk.photo.crop import plan_crop  # noqa: E402
from kiosk.sim import faces  # noqa: E402
from kiosk.sim.scenes import compose_scene  # noqa: E402


def has_problem(rule: str, label: dict, derived: str | None) -> bool | None:
    """Does the labelled (or derived) face break ``rule``? None: no label for it."""
    if derived == "earrings":
        return True if rule == "attire.jewelry" else has_problem(rule, label, None)
    if derived == "fringe":
        return True if rule == "occlusion.hair" else has_problem(rule, label, None)
    if rule == "attire.headwear":
        return label["headwear"] != "none"
    if rule == "attire.jewelry":
        return bool(label["earrings"] or label["necklace"])
    if rule == "occlusion.hair":
        return bool(label["hair_over_brows"] or label.get("hair_over_eyes")
                    or label["ears_visible"] != "both")
    if rule == "pose.pitch":
        return label["pose"] in ("down", "up")
    if rule == "pose.yaw":
        return label["pose"] in ("left", "right")
    if rule == "pose.roll":
        return label["pose"] == "tilted"
    if rule == "eyes.gaze":
        return label["gaze"] != "camera"
    if rule == "mouth.closed":
        return bool(label["mouth_open"])
    if rule == "glasses.tinted":
        return label["glasses"] == "tinted"
    return None


def cases(derived: bool, frontal_only: bool = False):
    """(name, scene arguments, label, derivation) for every face and derived version."""
    for r in faces.labels().values():
        if frontal_only and r["pose"] != "frontal":
            continue
        yield r["id"], dict(face=r["id"]), r, None
        if derived and r["pose"] == "frontal":
            yield r["id"] + "+studs", dict(face=r["id"], earrings=True), r, "earrings"
            yield r["id"] + "+fringe", dict(face=r["id"], fringe=True), r, "fringe"


def run(rules, derived: bool, frontal_only: bool = False):
    analyzer = Analyzer()
    cfg = Config()
    cfg.booth.backdrop = "blue"
    rows = []
    for name, kw, label, how in cases(derived, frontal_only):
        try:
            scene = compose_scene(**kw)
        except Exception as e:      # a photo FaceMesh cannot find a face in
            rows.append((name, label, how, None, str(e)))
            continue
        analysis = analyzer.analyze(scene)
        plan = plan_crop(analysis)
        res = {r.id: r for r in run_checks(analysis, cfg, crop=plan if plan.box else None, ids=rules)}
        rows.append((name, label, how, res, None))
    analyzer.close()
    return rows


def summary(rows, rules):
    """Per rule: counts and rates against the labels."""
    out = []
    for rule in rules:
        c = dict(n=0, pass_=0, fail=0, unknown=0, bad=0, bad_fail=0, bad_pass=0, good=0, good_fail=0,
                 good_pass=0)
        for _, label, how, res, _ in rows:
            if res is None:
                continue
            r = res[rule]
            st = {Status.PASS: "pass_", Status.FAIL: "fail", Status.UNKNOWN: "unknown",
                  Status.WARN: "fail" if not r.advisory else "pass_"}[r.status]
            c["n"] += 1
            c[st] += 1
            bad = has_problem(rule, label, how)
            if bad is None:
                continue
            side = "bad" if bad else "good"
            c[side] += 1
            if st == "fail":
                c[side + "_fail"] += 1
            elif st == "pass_":
                c[side + "_pass"] += 1
        out.append((rule, c))
    return out


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} %" if b else "–"


def print_summary(summ, markdown: bool) -> None:
    head = ("rule", "pass", "fail", "unknown", "with problem", "true-fail", "missed (pass)",
            "without", "false-fail", "unknown share")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
    else:
        print(f"{head[0]:<22}{'pass':>6}{'fail':>6}{'unkn':>6}{'bad':>6}{'TF':>7}{'miss':>7}"
              f"{'good':>6}{'FF':>7}{'unkn%':>7}")
    for rule, c in summ:
        if markdown:
            cells = (f"`{rule}`", c["pass_"], c["fail"], c["unknown"], c["bad"] or "–",
                     pct(c["bad_fail"], c["bad"]), pct(c["bad_pass"], c["bad"]), c["good"] or "–",
                     pct(c["good_fail"], c["good"]), pct(c["unknown"], c["n"]))
            print("| " + " | ".join(str(x) for x in cells) + " |")
        else:
            print(f"{rule:<22}{c['pass_']:>6}{c['fail']:>6}{c['unknown']:>6}{c['bad']:>6}"
                  f"{pct(c['bad_fail'], c['bad']):>7}{pct(c['bad_pass'], c['bad']):>7}{c['good']:>6}"
                  f"{pct(c['good_fail'], c['good']):>7}{pct(c['unknown'], c['n']):>7}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rule", action="append", help="only these rule ids")
    ap.add_argument("--values", action="store_true", help="print every face's status and value too")
    ap.add_argument("--no-derived", action="store_true", help="only the real photographs")
    ap.add_argument("--markdown", action="store_true", help="the summary as a Markdown table")
    ap.add_argument("--frontal", action="store_true",
                    help="only faces labelled frontal (what the booth judges once it has guided the pose)")
    args = ap.parse_args()
    rules = args.rule or list(ALL_RULE_IDS)
    if not faces.labels():
        sys.exit(f"no labelled faces in {faces.LABELS}: run `make setup` (tools/fetch-faces)")
    t0 = time.perf_counter()
    rows = run(rules, derived=not args.no_derived, frontal_only=args.frontal)
    skipped = [(n, why) for n, _, _, res, why in rows if res is None]
    n_real = sum(1 for _, _, how, res, _ in rows if res is not None and how is None)
    ids = {label["identity"] for _, label, how, res, _ in rows if res is not None and how is None}
    if args.values:
        width = max(len(n) for n, *_ in rows)
        for rule in rules:
            print(f"\n{rule}")
            for name, label, how, res, _ in rows:
                if res is None:
                    continue
                r = res[rule]
                bad = has_problem(rule, label, how)
                tag = {True: "PROBLEM", False: "ok", None: ""}[bad]
                print(f"  {name:<{width}}  {tag:<8} {r.status.value:<7} {r.value}")
        print()
    print(f"{n_real} real photos of {len(ids)} identities, {len(rows) - n_real - len(skipped)} derived; "
          f"{len(skipped)} not composable ({', '.join(n for n, _ in skipped) or 'none'}); "
          f"{time.perf_counter() - t0:.0f} s\n")
    print_summary(summary(rows, rules), args.markdown)


if __name__ == "__main__":
    main()
