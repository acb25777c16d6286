"""Engine benchmark, analysis part: time per 640×480 preview frame and per 4056×3040 still.

Prints the median analysis time (with and without Pose) for a preview-sized frame and for a
full-resolution HQ-camera still, the per-model split, and the peak memory. Scenes are real
photographs composed on the blue backdrop (hardware.scenes). Single-threaded figures: run it
on an otherwise idle machine.

    python bench/engine.py [--frames 30] [--stills 5]

The pipeline part (check + crop + encode + verify, encode counts) lives in bench/pipeline.py
when present, and is called from main() below.
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

from hardware.scenes import compose_scene  # noqa: E402
from kiosk.analysis import Analyzer  # noqa: E402


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def bench_analysis(frames: int = 30, stills: int = 5) -> dict[str, float]:
    """Analysis timings in milliseconds (medians), and the peak resident memory in MB."""
    out: dict[str, float] = {}
    preview = compose_scene("hopper", "blue", size=(640, 480))
    still = compose_scene("hopper", "blue", size=(4056, 3040))
    with Analyzer() as analyzer:
        analyzer.analyze(preview)            # warm-up: first inference allocates
        for shoulders in (True, False):
            times, parts = [], {}
            for _ in range(frames):
                t = time.perf_counter()
                a = analyzer.analyze(preview, shoulders=shoulders)
                times.append(time.perf_counter() - t)
                for k, v in a.timings_ms.items():
                    parts.setdefault(k, []).append(v)
            key = "preview" if shoulders else "preview_no_pose"
            out[f"{key}_ms"] = _median_ms(times)
            if shoulders:
                for k, v in parts.items():
                    out[f"preview_{k}_ms"] = statistics.median(v)
        times = []
        for _ in range(stills):
            t = time.perf_counter()
            analyzer.analyze(still)
            times.append(time.perf_counter() - t)
        out["still_ms"] = _median_ms(times)
    with Analyzer(video=True) as tracker:
        tracker.analyze(preview)
        times = []
        for _ in range(frames):
            t = time.perf_counter()
            tracker.analyze(preview, shoulders=False)
            times.append(time.perf_counter() - t)
        out["preview_video_no_pose_ms"] = _median_ms(times)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def print_analysis(r: dict[str, float]) -> None:
    print("Analysis (median, single frame, this machine)")
    print(f"  640×480 preview, all four models     {r['preview_ms']:7.1f} ms")
    print(f"  640×480 preview, without Pose        {r['preview_no_pose_ms']:7.1f} ms")
    print(f"  640×480 preview, tracking, no Pose   {r['preview_video_no_pose_ms']:7.1f} ms")
    split = ", ".join(f"{k[8:-3]} {v:.1f}" for k, v in r.items()
                      if k.startswith("preview_") and k[8:-3] in
                      ("face_mesh", "segmentation", "face_detection", "pose", "geometry"))
    print(f"    split (ms): {split}")
    print(f"  4056×3040 still                      {r['still_ms']:7.1f} ms")
    print(f"  peak resident memory                 {r['peak_rss_mb']:7.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--stills", type=int, default=5)
    args = ap.parse_args()
    print_analysis(bench_analysis(args.frames, args.stills))
    try:
        from pipeline import main as pipeline_main   # bench/pipeline.py (engine file side)
    except ImportError:
        return
    pipeline_main()


if __name__ == "__main__":
    main()
