"""`make bench`: every speed figure of the booth, ending with one line of JSON.

    .venv/bin/python bench/all.py

Runs each benchmark in its own process (its own core pinning and memory), prints what each
says, and ends with exactly one line, the contract for anyone who tracks these figures::

    {"live_ms": …, "floor_ms": …, "live_ratio": …, "screen_fps": …, "hint_latency_ms": …,
     "still_ms": …, "analyze_calls_per_capture": …, "check_startup_s": …,
     "simulate_rss_mib": …}

* live_ms, floor_ms, live_ratio: bench/live.py (one 640×480 preview frame through the live
  path, amortised, against FaceMesh + SelfieSegmentation raw; same run, same frames, one core);
* screen_fps, hint_latency_ms: bench/booth.py --loop-only (the guidance loop with its real
  threads; latency from a jump of the student to the new instruction on screen);
* still_ms: bench/pipeline.py (a 4056×3040 still to a verified file on disk, median);
  analyze_calls_per_capture: the booth's capture job, counted around the real Analyzer;
* check_startup_s: wall time of ``kiosk check one.jpg`` (a new process, median of 3);
* simulate_rss_mib: peak resident memory of ``kiosk simulate --headless``.

The machine's load (``os.getloadavg``) is printed with the figures: timings on a shared
machine are noisy; ratios measured in the same run are what count. The decisions dump
(bench/live_decisions.py) runs last and prints its summary.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _json_of(script: str, *args: str) -> dict:
    out = subprocess.run([PY, str(ROOT / "bench" / script), *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def check_startup(runs: int = 3) -> tuple[float, float]:
    """Wall seconds of ``kiosk check`` on one camera-size photograph, and its CPU seconds
    (user + system, all threads): medians."""
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from kiosk.sim.scenes import compose_scene

    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "one.jpg"
        Image.fromarray(compose_scene("hopper", "blue", size=(1440, 1080))).save(image, quality=92)
        times, cpu = [], []
        for _ in range(runs):
            t = time.perf_counter()
            proc = subprocess.Popen([str(Path(PY).parent / "kiosk"), "check", str(image)],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            times.append(time.perf_counter() - t)
            cpu.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def simulate_rss_mib() -> tuple[float, str]:
    """Peak resident memory (MiB) of one headless ``kiosk simulate`` and its last lines."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
        proc = subprocess.Popen([str(Path(PY).parent / "kiosk"), "simulate", "--headless",
                                 "--usb-dir", str(Path(tmp) / "usb")], cwd=tmp, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, out.strip().splitlines()[-1] if out.strip() else ""


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from kiosk.native_logs import hide_native_logs
    hide_native_logs()
    print(f"bench: {os.cpu_count()} cpus, {_load()}")
    live = _json_of("live.py")
    print(f"live path: {live['live_ms']} ms/frame against a floor of {live['floor_ms']} ms "
          f"= {live['live_ratio']} × (models {live['live_models_ms']}, crop "
          f"{live['live_crop_ms']}, checks {live['live_checks_ms']}; CPU time "
          f"{live['live_cpu_ratio']} ×; pose 1 in {live['pose_every']} ({live['pose_recheck']} "
          f"while the shoulders fail), face detection 1 in {live['detect_every']}, each pixel "
          f"rule again after {live['pixel_every']} frames ({live['pixel_recheck']} while it "
          f"blocks), both within {live['moved_recheck']} once the head has moved); {_load()}")
    loop = _json_of("booth.py", "--loop-only")
    print(f"guidance loop: screen {loop['screen_fps']} fps (target {loop['target_fps']}), "
          f"analysis {loop['analysed_fps']} frames/s, hint latency median "
          f"{loop['hint_latency_ms']} ms {loop['hint_latencies_ms']} (hysteresis "
          f"{loop['hint_hold_s']} s included); {_load()}")
    still = _json_of("pipeline.py")
    print(f"still → verified file: median {still['still_to_verified_file'] * 1000:.0f} ms "
          f"(min {still['min']['still_to_verified_file'] * 1000:.0f}; analyse "
          f"{still['analyze'] * 1000:.0f}, checks {still['checks'] * 1000:.0f}, encode "
          f"{still['encode'] * 1000:.0f}, verify {still['verify'] * 1000:.0f}, write "
          f"{still['write_and_reverify'] * 1000:.0f}; CPU time of all threads "
          f"{still['still_to_verified_file_cpu'] * 1000:.0f}); analyze() per still "
          f"{still['analyze_calls']:.0f}; a capture of {still['burst']} stills: "
          f"{still['analyze_calls_per_capture']} calls; {_load()}")
    startup, startup_cpu = check_startup()
    print(f"kiosk check one.jpg: {startup:.2f} s (median of 3; CPU time {startup_cpu:.2f} s); "
          f"{_load()}")
    rss, last = simulate_rss_mib()
    print(f"kiosk simulate: peak {rss:.0f} MiB ({last}); {_load()}")
    dec = subprocess.run([PY, str(ROOT / "bench" / "live_decisions.py")], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()
    print("live decisions against the validator (bench/live_decisions.py):")
    for line in dec[1:]:
        print("  " + line)
    print(json.dumps({
        "live_ms": live["live_ms"], "floor_ms": live["floor_ms"], "live_ratio": live["live_ratio"],
        "screen_fps": loop["screen_fps"], "hint_latency_ms": loop["hint_latency_ms"],
        "still_ms": round(still["still_to_verified_file"] * 1000, 1),
        "analyze_calls_per_capture": still["analyze_calls_per_capture"],
        "check_startup_s": round(startup, 2), "simulate_rss_mib": round(rss, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
