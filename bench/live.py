"""Live path against its floor: one 640×480 preview frame through guide_frame, and the two models
it cannot do without, timed in the same run on the same frames.

    .venv/bin/python bench/live.py [--cycles 9] [--cores 1] [--lean DEG] [--walk F] [--json]

* floor: FaceMesh (refine_landmarks, video mode, one face) + SelfieSegmentation (model 0), raw
  mediapipe calls, nothing else;
* live: ``kiosk.booth.workers.guide_frame`` with the booth's live analyzer
  (``kiosk.booth.workers.live_analyzer``): models, people count, shoulders, crop plan, every
  blocking check.

Frames: real photographs composed on the backdrop (kiosk.sim.scenes), drifting by a few pixels
from frame to frame like a person holding still in front of the camera: less than the head
movement after which the shoulders and the pixel rules are measured again at once
(``LIVE_HEAD_MOVED_*``), which a student moving into place pays on top (``--walk 0.25``: shifting
sideways by a quarter of the frame width in 30 frames and back, again and again). ``--lean 12``: leaning,
so that the shoulders fail and Pose is run more often, as for a student being told about them.
Both are timed in cycles of
as many frames as it takes for every amortised model to run once (Pose, FaceDetection), the
floor and the live path alternating cycle by cycle so both see the same load; a cycle's figure
is its mean per frame (amortised), the report gives the median over cycles. Pinned to one core
(the booth's live thread is one thread), with the allocator tuned as every ``kiosk`` command
tunes it (``kiosk.cli.tune_malloc``): big blocks are mapped afresh each time, which the models'
frame buffers pay for. Wall time and CPU time (all threads of the process: Pose's helper
thread and mediapipe's own count too) are both reported; on a machine shared with other jobs
the CPU time is the steadier of the two.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PREVIEW = (640, 480)
STILL = (4056, 3040)


def preview_frames(n: int = 30, face: str = "hopper", lean: float = 0.0, walk: float = 0.0) -> list:
    """``n`` frames of a student swaying on the spot, or with ``walk`` walking sideways over that
    fraction of the frame width in 30 frames (2.5 s at 12 analysed frames/s) and back, again
    and again."""
    from kiosk.sim.scenes import compose_scene

    def dx(i: int) -> float:
        if walk:
            return walk * (abs(i % 60 - 30) / 30 - 0.5)
        return 0.004 * (i % 10 - 5)

    return [compose_scene(face, "blue", size=PREVIEW, dx=dx(i), dy=0.002 * (i % 7 - 3), roll_deg=lean)
            for i in range(n)]


def pin_cores(n: int) -> str:
    if n <= 0 or not hasattr(os, "sched_setaffinity"):
        return f"{os.cpu_count()} cores"
    cpus = sorted(os.sched_getaffinity(0))[-n:]
    os.sched_setaffinity(0, set(cpus))
    return f"{n} core" + ("s" if n > 1 else "") + " (pinned)"


def bench(cycles: int = 9, lean: float = 0.0, walk: float = 0.0) -> dict:
    from kiosk.booth.workers import (
        LIVE_DETECT_EVERY,
        LIVE_MOVED_RECHECK,
        LIVE_PIXEL_EVERY,
        LIVE_PIXEL_RECHECK,
        LIVE_POSE_EVERY,
        LIVE_POSE_RECHECK,
        LiveChecks,
        guide_frame,
        live_analyzer,
    )
    from kiosk.config import Config
    from kiosk.photo.analysis import load_solutions
    from kiosk.photo.checks import REGISTRY
    from kiosk.photo.checks.context import CheckContext

    mp = load_solutions()
    config = Config()
    period = math.lcm(LIVE_POSE_EVERY, LIVE_POSE_RECHECK, LIVE_DETECT_EVERY, LIVE_PIXEL_EVERY,
                      LIVE_PIXEL_RECHECK, LIVE_MOVED_RECHECK)
    frames = preview_frames(period, lean=lean, walk=walk)
    mesh = mp.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True)
    seg = mp.selfie_segmentation.SelfieSegmentation(model_selection=0)
    analyzer = live_analyzer()
    live_checks = LiveChecks()
    for f in frames[:3]:                     # warm-up: the first inferences allocate
        mesh.process(f)
        seg.process(f)
        guide_frame(analyzer, f, config, STILL, live_checks)

    floor, live, models, crop, checks = [], [], [], [], []
    floor_cpu, live_cpu = [], []
    steps: dict[str, list[float]] = {}
    runs = {"pose": 0, "face_detection": 0}
    per_check: dict[str, list[float]] = {}
    for _ in range(cycles):
        t, c = time.perf_counter(), time.process_time()
        for f in frames:
            mesh.process(f)
            seg.process(f)
        floor.append((time.perf_counter() - t) / len(frames))
        floor_cpu.append((time.process_time() - c) / len(frames))
        t, c = time.perf_counter(), time.process_time()
        stages = []
        for f in frames:
            analysis, plan, results, s = guide_frame(analyzer, f, config, STILL, live_checks)
            stages.append((s, analysis.timings_ms))
        live.append((time.perf_counter() - t) / len(frames))
        live_cpu.append((time.process_time() - c) / len(frames))
        models.append(statistics.mean(s["models"] for s, _ in stages))
        crop.append(statistics.mean(s["crop"] for s, _ in stages))
        checks.append(statistics.mean(s["checks"] for s, _ in stages))
        for k in ("face_mesh", "segmentation", "face_detection", "pose", "geometry"):
            steps.setdefault(k, []).append(sum(tm.get(k, 0.0) for _, tm in stages) / len(frames))
        for k in runs:
            runs[k] += sum(k in tm for _, tm in stages)
    # the checks one by one on the last frame's context (split only: not part of the figures)
    from kiosk.booth.workers import live_view_scale
    for _ in range(5):
        ctx = CheckContext(analysis, config, plan, view_scale=live_view_scale(plan))
        for r in results:
            t = time.perf_counter()
            REGISTRY[r.id](ctx)
            per_check.setdefault(r.id, []).append(time.perf_counter() - t)
    mesh.close()
    seg.close()
    analyzer.close()
    ms = lambda v: round(statistics.median(v) * 1e3, 2)          # noqa: E731
    out = {"floor_ms": ms(floor), "live_ms": ms(live),
           "floor_cpu_ms": ms(floor_cpu), "live_cpu_ms": ms(live_cpu),
           "live_models_ms": ms(models), "live_crop_ms": ms(crop), "live_checks_ms": ms(checks),
           "pose_every": LIVE_POSE_EVERY, "pose_recheck": LIVE_POSE_RECHECK,
           "detect_every": LIVE_DETECT_EVERY, "moved_recheck": LIVE_MOVED_RECHECK, "lean_deg": lean,
           "walk": walk,
           "pose_runs_per_100": round(100 * runs["pose"] / (cycles * len(frames)), 1),
           "detect_runs_per_100": round(100 * runs["face_detection"] / (cycles * len(frames)), 1),
           "pixel_every": LIVE_PIXEL_EVERY, "pixel_recheck": LIVE_PIXEL_RECHECK,
           "frames_per_cycle": len(frames), "cycles": cycles,
           "view": f"{ctx.rgb.shape[1]}x{ctx.rgb.shape[0]}"}
    out["live_ratio"] = round(out["live_ms"] / out["floor_ms"], 3)
    out["live_cpu_ratio"] = round(out["live_cpu_ms"] / out["floor_cpu_ms"], 3)
    out["load"] = round(os.getloadavg()[0], 1)
    for k, v in steps.items():
        out[f"model_{k}_ms"] = round(statistics.median(v), 2)        # amortised per frame
    top = sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1]))[:6]
    out["costliest_checks"] = ", ".join(f"{k} {ms(v)}" for k, v in top)
    return out


def print_report(r: dict, cores: str) -> None:
    print(f"Live path per 640×480 preview frame ({cores}; {r['cycles']} cycles of "
          f"{r['frames_per_cycle']} frames, median of the cycles' means, ms; load {r['load']})")
    print("                                                                wall      CPU")
    print(f"  floor (FaceMesh video 1 face + SelfieSegmentation, raw)   {r['floor_ms']:7.2f}  "
          f"{r['floor_cpu_ms']:7.2f}")
    print(f"  live  (guide_frame)                                       {r['live_ms']:7.2f}  "
          f"{r['live_cpu_ms']:7.2f}   = {r['live_ratio']:.2f} × floor "
          f"({r['live_cpu_ratio']:.2f} × by CPU time)")
    print(f"    models {r['live_models_ms']:.2f} (face mesh {r['model_face_mesh_ms']:.2f}, "
          f"segmentation {r['model_segmentation_ms']:.2f}, face detection "
          f"{r['model_face_detection_ms']:.2f} [{r['detect_runs_per_100']:g} frames in 100], pose "
          f"{r['model_pose_ms']:.2f} [{r['pose_runs_per_100']:g} frames in 100: 1 in {r['pose_every']} "
          f"while the shoulders pass and 1 in {r['moved_recheck']} once the head has moved, 1 in "
          f"{r['pose_recheck']} while they fail (the next frame once it has moved)], "
          f"geometry {r['model_geometry_ms']:.2f})")
    print(f"    crop plan {r['live_crop_ms']:.2f}, checks {r['live_checks_ms']:.2f} "
          f"(judged on a {r['view']} crop; each pixel rule again after {r['pixel_every']} frames "
          f"while nothing on screen is about it, {r['moved_recheck']} once the head has moved, "
          f"{r['pixel_recheck']} while it blocks)")
    print(f"    costliest checks (ms): {r['costliest_checks']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=9)
    ap.add_argument("--cores", type=int, default=1, help="pin to this many cores (0: all)")
    ap.add_argument("--lean", type=float, default=0.0,
                    help="the student leans this many degrees (12: the shoulders fail)")
    ap.add_argument("--walk", type=float, default=0.0,
                    help="the student walks sideways over this fraction of the frame width and back")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cores = pin_cores(args.cores)
    from kiosk.cli import tune_malloc
    tune_malloc()                   # as the booth runs (kiosk.cli.main), before any thread starts
    from kiosk.native_logs import hide_native_logs
    hide_native_logs()
    r = bench(args.cycles, args.lean, args.walk)
    if args.json:
        print(json.dumps(r))
    else:
        print_report(r, cores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
