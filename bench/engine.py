"""Engine benchmark, analysis part: the live path per 640×480 preview frame, and a full still.

Prints medians (milliseconds, one CPU core) of:

* the models per preview frame in four configurations: independent images (all four models;
  without Pose), tracking without Pose, and the booth's live configuration: tracking with
  Pose on one frame in ``kiosk.booth.workers.LIVE_POSE_EVERY`` (mean given too: it includes the
  Pose frames);
* the live path exactly as the booth runs it (``kiosk.booth.workers.guide_frame``): models, crop plan,
  all checks judged in the crop, total; and the costliest checks;
* the analysis of a 4056×3040 still, and the peak memory.

Scenes are real photographs composed on the blue backdrop (kiosk.sim.scenes), drifting a
little from frame to frame like a person standing in front of the camera. The process is
pinned to one core (``--cores`` to change): the target is single-threaded.

    python bench/engine.py [--frames 60] [--stills 5] [--cores 1]

The pipeline part (check + crop + encode + verify, encode counts) is bench/pipeline.py,
called from main() below.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("GLOG_minloglevel", "2")

from kiosk.sim.scenes import compose_scene  # noqa: E402
from kiosk.photo.analysis import Analyzer  # noqa: E402

PREVIEW = (640, 480)
STILL = (4056, 3040)
MODEL_STEPS = ("face_mesh", "segmentation", "face_detection", "pose", "geometry")


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def preview_frames(n: int = 20, face: str = "hopper") -> list:
    """A person standing in front of the camera: the face drifts by a few pixels."""
    return [compose_scene(face, "blue", size=PREVIEW, dx=0.004 * (i % 10 - 5), dy=0.002 * (i % 7 - 3))
            for i in range(n)]


def bench_models(frames: int = 60) -> dict[str, float]:
    """Model time per preview frame (ms) in each configuration, with the per-model split."""
    seq = preview_frames()
    out: dict[str, float] = {}
    configs = {
        "static_all": (dict(), True),
        "static_no_pose": (dict(), False),
        "tracking_no_pose": (dict(video=True), False),
        "live": (dict(video=True, pose_every=_live_pose_every()), True),
    }
    for name, (kwargs, shoulders) in configs.items():
        with Analyzer(**kwargs) as analyzer:
            for f in seq[:4]:
                analyzer.analyze(f, shoulders=shoulders)       # warm-up: first inference allocates
            times, parts = [], {}
            for i in range(frames):
                t = time.perf_counter()
                a = analyzer.analyze(seq[i % len(seq)], shoulders=shoulders)
                times.append(time.perf_counter() - t)
                for k in MODEL_STEPS:
                    parts.setdefault(k, []).append(a.timings_ms.get(k, 0.0))
            out[f"{name}_ms"] = _ms(times)
            out[f"{name}_mean_ms"] = statistics.mean(times) * 1e3
            for k, v in parts.items():
                # Pose: its time when it runs (median of the frames it ran on)
                ran = [x for x in v if x > 0] or [0.0]
                out[f"{name}_{k}_ms"] = statistics.median(ran)
    return out


def _live_pose_every() -> int:
    from kiosk.booth.workers import LIVE_POSE_EVERY

    return LIVE_POSE_EVERY


def bench_live(frames: int = 60, still_size: tuple[int, int] = STILL) -> dict[str, float]:
    """The booth's live path per preview frame: models, crop plan, checks (ms, medians)."""
    from kiosk.photo.checks import ALL_RULE_IDS, REGISTRY
    from kiosk.photo.checks.context import CheckContext
    from kiosk.config import Config
    from kiosk.booth.workers import LIVE_POSE_EVERY, guide_frame

    config = Config()
    seq = preview_frames()
    stages: dict[str, list[float]] = {}
    per_check: dict[str, list[float]] = {}
    with Analyzer(video=True, pose_every=LIVE_POSE_EVERY) as analyzer:
        for f in seq[:4]:
            guide_frame(analyzer, f, config, still_size)
        for i in range(frames):
            analysis, plan, _, s = guide_frame(analyzer, seq[i % len(seq)], config, still_size)
            for k, v in s.items():
                stages.setdefault(k, []).append(v)
            stages.setdefault("total", []).append(sum(s.values()))
            # the same checks once more, one by one, for the split (shared measures are
            # computed by the first check that needs them, as in run_checks)
            ctx = CheckContext(analysis, config, plan)
            for rule in ALL_RULE_IDS:
                t = time.perf_counter()
                REGISTRY[rule](ctx)
                per_check.setdefault(rule, []).append(time.perf_counter() - t)
    out = {f"live_{k}_ms": _ms(v) for k, v in stages.items()}
    out["live_total_mean_ms"] = statistics.mean(stages["total"]) * 1e3
    out["live_fps"] = 1000.0 / out["live_total_mean_ms"]
    top = sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1]))[:6]
    out["costliest_checks"] = ", ".join(f"{k} {_ms(v):.1f}" for k, v in top)
    return out


def bench_still(stills: int = 5) -> dict[str, float]:
    still = compose_scene("hopper", "blue", size=STILL)
    times = []
    with Analyzer() as analyzer:
        analyzer.analyze(compose_scene("hopper", "blue", size=PREVIEW))
        for _ in range(stills):
            t = time.perf_counter()
            analyzer.analyze(still)
            times.append(time.perf_counter() - t)
    return {"still_ms": _ms(times)}


def bench_analysis(frames: int = 60, stills: int = 5) -> dict[str, float]:
    """Every analysis figure (ms medians) and the peak resident memory (MB)."""
    out = bench_models(frames)
    out.update(bench_live(frames))
    out.update(bench_still(stills))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def print_analysis(r: dict, cores: str) -> None:
    n = _live_pose_every()
    print(f"Analysis of a 640×480 preview frame (median ms, {cores})")
    print("  models per frame")
    print(f"    independent images, all four models        {r['static_all_ms']:7.1f}")
    print(f"    independent images, without Pose           {r['static_no_pose_ms']:7.1f}")
    print(f"    tracking, without Pose                     {r['tracking_no_pose_ms']:7.1f}")
    print(f"    tracking, Pose every {n}th frame (live)      {r['live_ms']:7.1f}"
          f"   (mean {r['live_mean_ms']:.1f})")
    split = ", ".join(f"{k} {r[f'live_{k}_ms']:.1f}" for k in MODEL_STEPS)
    print(f"      split in the live configuration: {split}")
    print("  live path per frame (kiosk.booth.workers.guide_frame, as the booth runs it)")
    print(f"    models {r['live_models_ms']:.1f} + crop plan {r['live_crop_ms']:.1f}"
          f" + 31 checks {r['live_checks_ms']:.1f} = {r['live_total_ms']:.1f} ms"
          f"   (mean {r['live_total_mean_ms']:.1f} ms: {r['live_fps']:.0f} frames/s)")
    print(f"    costliest checks (ms): {r['costliest_checks']}")
    print(f"Analysis of a 4056×3040 still                  {r['still_ms']:7.1f} ms")
    print(f"Peak resident memory                           {r['peak_rss_mb']:7.0f} MB")


def pin_cores(n: int) -> str:
    """Run on ``n`` cores only (0: all); returns a description for the report."""
    if n <= 0 or not hasattr(os, "sched_setaffinity"):
        return f"{os.cpu_count()} cores"
    cpus = sorted(os.sched_getaffinity(0))[-n:]
    os.sched_setaffinity(0, set(cpus))
    return f"{n} core" + ("s" if n > 1 else "") + " (pinned)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--stills", type=int, default=5)
    ap.add_argument("--cores", type=int, default=1, help="pin to this many cores (0: all)")
    args, _ = ap.parse_known_args()
    cores = pin_cores(args.cores)
    print_analysis(bench_analysis(args.frames, args.stills), cores)
    try:
        from pipeline import main as pipeline_main   # bench/pipeline.py (engine file side)
    except ImportError:
        return
    pipeline_main()


if __name__ == "__main__":
    main()
