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
    from kiosk.booth.workers import LiveChecks, guide_frame, live_analyzer
    from kiosk.config import Config

    now = [0.0]
    from kiosk.sim.scripted import student_walks_in

    camera = FakeCamera(student_walks_in(), clock=lambda: now[0])   # time stepped by hand
    camera.start()
    config = Config()
    stages: dict[str, list[float]] = {}
    checks = LiveChecks()
    with live_analyzer() as analyzer:
        for i in range(frames + 3):
            now[0] = i / fps
            t0 = time.perf_counter()
            frame = camera.preview_frame()
            preview = time.perf_counter() - t0
            _, _, _, s = guide_frame(analyzer, frame, config, camera.still_size, checks)
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


#: Two scenes and the instruction each one asks for: the student jumps between them.
HINT_SCENES = ((dict(face="hopper", dx=0.14), "layout.centered"),
               (dict(face="hopper", scale=0.55), "crop"))


def guidance_loop(seconds_per_scene: float = 3.0, switches: int = 6,
                  size: tuple[int, int] = (1280, 800)) -> dict:
    """The booth's guidance loop with its real threads, without the simulator around it.

    The fake camera films a student who jumps from one place to another every few seconds;
    the preview thread, the live-analysis thread (kiosk.booth.workers) and the loop (events,
    kiosk.booth.guidance.Guide with its hysteresis, the guidance screen drawn headless, at the
    configured frame rate) run as in the booth. Reported: the screen's frame rate while the
    analysis runs, the analysed frames per second, and the hint latency: from the first
    camera frame of the new scene to the first drawn frame that shows the new instruction
    (median over the jumps; it includes the hysteresis, ``hint_hold_s``, by design).
    """
    import queue

    import pygame

    from hardware.fake_camera import FakeCamera
    from kiosk.booth.guidance import Guide
    from kiosk.booth.session import SessionData, State
    from kiosk.booth.ui import screens
    from kiosk.booth.ui.fonts import Fonts
    from kiosk.booth.ui.layout import make_layout
    from kiosk.booth.workers import LiveAnalysis, LiveResult, PreviewFeed
    from kiosk.config import Config
    from kiosk.sim.scenes import compose_scene

    config = Config()
    frames = [compose_scene(size=(1440, 1080), **kw) for kw, _ in HINT_SCENES]
    start = [0.0]
    period = seconds_per_scene

    def scene(t, size=None):
        return frames[int(max(t, 0.0) // period) % 2]

    camera = FakeCamera(scene, fps=15.0)
    camera.start()
    events: "queue.Queue" = queue.Queue()
    feed = PreviewFeed(camera, events.put, fps=15.0)
    live = LiveAnalysis(feed, events.put, config, still_size=camera.still_size)
    feed.start()
    live.start()
    live.ready.wait(60)
    pygame.display.init()
    surface = pygame.Surface(size)
    fonts, layout = Fonts(), make_layout(size)
    guide = Guide(config.session)
    data = SessionData(state=State.GUIDANCE)
    live.set_mode("guide")
    fps = max(1, config.session.fps)
    start[0] = camera.elapsed()
    t_end = start[0] + period * (switches + 1)
    drawn, timeline = 0, []
    analysed0, t0 = live.analysed, time.monotonic()
    next_frame = time.monotonic()
    while camera.elapsed() < t_end:
        next_frame += 1.0 / fps
        while True:
            try:
                ev = events.get(timeout=max(0.0, next_frame - time.monotonic()))
            except queue.Empty:
                break
            if isinstance(ev, LiveResult) and ev.generation == live.generation:
                data.live = guide.update(ev.results, ev.plan, time.monotonic(),
                                         source_size=ev.source_size, people=ev.people)
        frame, _ = feed.latest()
        screens.draw(surface, fonts, layout, screens.ScreenModel(data, now=time.monotonic(),
                                                                  preview=frame))
        drawn += 1
        timeline.append((camera.elapsed(), getattr(data.live, "hint_id", None)))
    wall = time.monotonic() - t0
    analysed = live.analysed - analysed0
    live.stop()
    feed.stop()
    live.join(10)
    feed.join(10)
    camera.close()
    # per jump: the instruction the new scene settles on (shown at the end of its period), and
    # the first drawn frame that shows it
    latencies = []
    for k in range(1, switches + 1):
        part = [(t, h) for t, h in timeline if k * period <= t < (k + 1) * period]
        before = [h for t, h in timeline if t < k * period]
        if not part or not before or part[-1][1] == before[-1]:
            continue                     # no change of instruction to time
        settled = part[-1][1]
        latencies.append(next(t for t, h in part if h == settled) - k * period)
    return {"screen_fps": round(drawn / wall, 1), "target_fps": fps,
            "analysed_fps": round(analysed / wall, 1),
            "hint_latency_ms": round(statistics.median(latencies) * 1000) if latencies else None,
            "hint_latencies_ms": [round(x * 1000) for x in latencies],
            "jumps": switches, "hint_hold_s": config.session.hint_hold_s}


def draw_only(size: tuple[int, int], frames: int = 60) -> float:
    """Milliseconds to draw the live-guidance screen with a real preview frame and a crop plan."""
    import pygame

    from hardware.camera import downscale
    from kiosk.booth.guidance import GuidanceView
    from kiosk.booth.session import SessionData, State
    from kiosk.booth.ui import screens
    from kiosk.booth.ui.fonts import Fonts
    from kiosk.booth.ui.layout import make_layout
    from kiosk.message import Message
    from kiosk.sim.scenes import compose_scene

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
    parser.add_argument("--loop-only", action="store_true",
                        help="only the guidance loop (screen fps, hint latency)")
    args = parser.parse_args()
    from kiosk.native_logs import hide_native_logs
    hide_native_logs()
    if args.loop_only:
        loop = guidance_loop()
        print(json.dumps(loop) if args.json else
              f"guidance loop: screen {loop['screen_fps']} fps (target {loop['target_fps']}), "
              f"analysis {loop['analysed_fps']} frames/s, hint latency median "
              f"{loop['hint_latency_ms']} ms ({loop['hint_latencies_ms']}; hysteresis "
              f"{loop['hint_hold_s']} s included)")
        return 0
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
