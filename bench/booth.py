"""Benchmark of the booth: the live loop's frame rates and "all checks pass → photo on the USB".

    .venv/bin/python bench/booth.py [--runs N] [--json]

Runs the simulator (fake camera, MockFactory lights and buttons, a folder as the USB stick,
headless) N times and reports, per run and as medians:

* screen fps: frames the loop drew per second (preview + overlay + text), target config fps;
* analysis fps: preview frames analysed per second by the live-analysis thread (mediapipe +
  crop plan + every check), and the mean milliseconds per analysed frame;
* draw ms: mean time to draw one frame;
* pass → USB: seconds from the moment every check passed (the steady pass that led to the
  capture began) to the photo verified on the USB folder, without the seconds the student
  spends looking at the review screen; split into steady pass + countdown, burst + build +
  verify, and spool + export.

Also, without the simulator's other threads competing for the CPU: the live path alone per
preview frame of the scripted student (the fake camera drawing the 640×480 preview, then
``kiosk.booth.workers.guide_frame``: models, crop plan, all checks), as medians per stage; and a
drawing-only measurement of the live-guidance screen (no analysis) at two screen sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_run(root: Path) -> dict:
    from kiosk.sim.simulator import simulate

    out = simulate(root / "usb", headless=True, demo_dir=root / "demo")
    st = out.stats
    return {
        "ok": out.path is not None and out.verdict in ("pass", "warn"),
        "verdict": out.verdict,
        "seconds": round(out.seconds, 1),
        "screen_fps": round(out.fps, 1),
        "analysis_fps": round(out.live_fps, 2),
        "analysis_ms": None if out.analysis_ms is None else round(out.analysis_ms),
        "draw_ms": round(1000 * st.draw_seconds / max(1, st.frames), 1),
        "pass_to_usb_s": None if out.pass_to_usb_s is None else round(out.pass_to_usb_s, 2),
        "steady_and_countdown_s": _d(st.all_pass_at, st.burst_at),
        "burst_build_verify_s": _d(st.burst_at, st.review_at),
        "spool_and_export_s": _d(st.accepted_at, st.saved_at),
    }


def _d(a, b):
    return None if a is None or b is None else round(b - a, 2)


def live_path(frames: int = 60, fps: float = 10.0) -> dict:
    """Milliseconds per preview frame of the simulator's student, per stage (medians)."""
    from hardware.fake_camera import FakeCamera
    from kiosk.photo.analysis import Analyzer
    from kiosk.config import Config
    from kiosk.booth.workers import LIVE_POSE_EVERY, guide_frame

    now = [0.0]
    from kiosk.sim.scripted import student_walks_in

    camera = FakeCamera(student_walks_in(), clock=lambda: now[0])   # time stepped by hand
    camera.start()
    config = Config()
    stages: dict[str, list[float]] = {}
    with Analyzer(video=True, pose_every=LIVE_POSE_EVERY) as analyzer:
        for i in range(frames + 3):
            now[0] = i / fps
            t0 = time.perf_counter()
            frame = camera.preview_frame()
            preview = time.perf_counter() - t0
            _, _, _, s = guide_frame(analyzer, frame, config, camera.still_size)
            if i < 3:
                continue                        # warm-up
            stages.setdefault("preview", []).append(preview)
            for k, v in s.items():
                stages.setdefault(k, []).append(v)
            stages.setdefault("analysis", []).append(sum(s.values()))
    camera.close()
    out = {k: round(statistics.median(v) * 1000, 1) for k, v in stages.items()}
    out["analysis_mean"] = round(statistics.mean(stages["analysis"]) * 1000, 1)
    out["analysis_fps"] = round(1000 / out["analysis_mean"], 1)
    return out


def draw_only(size: tuple[int, int], frames: int = 60) -> float:
    """Milliseconds to draw the live-guidance screen with a real preview frame and a crop plan."""
    import pygame

    from hardware.camera import downscale
    from kiosk.sim.scenes import compose_scene
    from kiosk.message import Message
    from kiosk.config import SessionSettings
    from kiosk.booth.guidance import GuidanceView
    from kiosk.booth.session import SessionData, State
    from kiosk.booth.ui import screens
    from kiosk.booth.ui.fonts import Fonts
    from kiosk.booth.ui.layout import make_layout

    class Plan:
        ok, box = True, (200.0, 40.0, 440.0, 360.0)

    pygame.display.init()
    surface = pygame.Surface(size)
    fonts, layout = Fonts(), make_layout(size)
    preview = [downscale(compose_scene("hopper", dx=0.01 * i), (640, 480)) for i in range(4)]
    data = SessionData(state=State.GUIDANCE)
    data.live = GuidanceView(Message("请向左移动一点", "Move a little to your left"), "crop",
                             False, 0.0, False, Plan(), (640, 480), 1)
    t0 = time.perf_counter()
    for i in range(frames):
        model = screens.ScreenModel(data, now=0.0, preview=preview[i % 4])   # a new frame each time
        screens.draw(surface, fonts, layout, model)
    return (time.perf_counter() - t0) * 1000 / frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(one_run(Path(tmp)))
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float)) and not isinstance(runs[0][k], bool)]
    median = {k: round(statistics.median([r[k] for r in runs if r[k] is not None]), 2)
              for k in keys if any(r[k] is not None for r in runs)}
    drawing = {f"{w}x{h}": round(draw_only((w, h)), 1) for w, h in ((1280, 800), (800, 1280))}
    live = live_path()
    report = {"runs": runs, "median": median, "live_path_ms": live, "draw_guidance_ms": drawing,
              "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for i, r in enumerate(runs, 1):
            print(f"run {i}: " + ", ".join(f"{k} {v}" for k, v in r.items()))
        print("median: " + ", ".join(f"{k} {v}" for k, v in median.items()))
        print("live path alone, per 640×480 preview frame (median ms): "
              f"fake camera preview {live['preview']}, models {live['models']}, "
              f"crop plan {live['crop']}, checks {live['checks']}, analysis total "
              f"{live['analysis']} (mean {live['analysis_mean']}: {live['analysis_fps']} frames/s)")
        print("drawing the guidance screen only (ms/frame): " +
              ", ".join(f"{k} {v}" for k, v in drawing.items()))
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
