"""Benchmark of the registrar's tools on a graduating class: verify and merge speed and memory.

    .venv/bin/python bench/registrar.py [--photos 10000] [--image-photos 1000] [--jobs N]
                                        [--merge-only | --image-only]

Builds a class of ``--photos`` students exported by 20 booth-days (500 a folder): a few real
photos made by the engine from composed booth scenes (the bareheaded student, a real face,
on the blue backdrop, at a few positions) are re-sealed for each student (a new sealed identity over the
same pixels is cheap; running the camera pipeline 10,000 times is not). Every folder gets a
real ``manifest.json``/``manifest.csv`` with the engine's check results.

Then it runs the real commands in a child process and prints their rate and peak memory
(the sum over the command and its worker processes, sampled every 50 ms, and the largest
single process):

* ``kiosk registrar verify --no-image-checks`` on all photos (file rules, identity, checksums);
* ``kiosk registrar verify`` with image checks on ``--image-photos`` photos (face models);
* ``kiosk registrar merge`` of all photos, with the key.

The machine's load is printed first: on a shared machine the figures vary with it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.config import Config  # noqa: E402
from kiosk.handoff.export import contact_sheet  # noqa: E402
from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import sha256_bytes  # noqa: E402
from kiosk.handoff.spool import record_for  # noqa: E402
from kiosk.photo.identity import load_scheme  # noqa: E402
from kiosk.photo.jpeg import COM, digest_without_comments, insert_comment, read_segments  # noqa: E402
from kiosk.photo.student import Student, id_check_char  # noqa: E402

KEY = bytes(range(32))
PER_FOLDER = 500


def student(n: int) -> Student:
    first17 = f"110105200203{1 + n // 1000 % 28:02d}{n % 1000:03d}"    # born 2002-03-dd
    return Student(student_id=f"2020{n:06d}", id_number=first17 + id_check_char(first17),
                   name=f"学生{n}", college="计算机学院", class_name=f"计科{n % 30}班")


def engine_photos(count: int = 4):
    """A few finished photos from the engine: real face, booth scene, checks and all."""
    from kiosk.photo.analysis import Analyzer
    from kiosk.photo.engine import build_photo
    from kiosk.sim.scenes import compose_scene
    config, analyzer, made = Config(), Analyzer(), []
    try:
        for k in range(count * 3):
            # the bareheaded student, his tilt straightened as in the engine's tests (Grace
            # Hopper's cap now fails the photo)
            scene = compose_scene("franck-front", "blue", dx=0.02 * (k % 3 - 1),
                                  dy=0.01 * (k % 2), seed=k, roll_deg=-5.5)
            photo = build_photo(scene, student(k), config=config, analyzer=analyzer, key=KEY)
            if photo.ok:
                # what the head measures cannot decide the student confirms on the review
                # screen, as at the booth: the manifest row is then "warn, needs a look"
                confirmed = [{"id": c.id, "at": "2026-06-01T10:00:00+08:00", "zh": "已确认",
                              "en": "confirmed"} for c in photo.checks if c.needs_confirmation]
                record = record_for(photo, confirmed=confirmed)
                made.append((photo.jpeg, record["checks"], record["verdict"], confirmed))
            if len(made) == count:
                break
    finally:
        analyzer.close()
    if not made:
        raise SystemExit("the engine made no photo from the scenes")
    return made


def cpu_per_photo(photos, n: int = 60) -> float:
    """CPU milliseconds (all threads of this process) of one photo's verify with image checks,
    as a worker does it (OpenCV on one thread, the analyser made once and warmed up)."""
    import cv2

    from kiosk.photo.analysis import Analyzer
    from kiosk.photo.verify import verify_bytes
    cv2.setNumThreads(1)
    config, analyzer = Config(), Analyzer()
    try:
        for jpeg, *_ in photos:
            verify_bytes(jpeg, key=KEY, analyzer=analyzer, config=config, path="x.jpg")
        t = time.process_time()
        for k in range(n):
            verify_bytes(photos[k % len(photos)][0], key=KEY, analyzer=analyzer, config=config,
                         path="x.jpg")
        return (time.process_time() - t) / n * 1e3
    finally:
        analyzer.close()


def strip_comment(data: bytes) -> bytes:
    return b"".join(data[s.start:s.end] for s in read_segments(data) if s.marker != COM)


def build_class(root: Path, n: int, photos) -> float:
    scheme = load_scheme()
    bases = [(strip_comment(j), checks, verdict, confirmed)
             for j, checks, verdict, confirmed in photos]
    digests = [digest_without_comments(b) for b, *_ in bases]
    t = time.perf_counter()
    start = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    for f in range((n + PER_FOLDER - 1) // PER_FOLDER):
        booth, day = f"booth{f % 4 + 1}", (start + timedelta(days=f // 4)).date().isoformat()
        folder = root / "grad-photos" / booth / day
        folder.mkdir(parents=True)
        manifest = mf.Manifest(booth, day)
        for i in range(f * PER_FOLDER, min(n, (f + 1) * PER_FOLDER)):
            s, k = student(i), i % len(bases)
            at = start + timedelta(days=f // 4, seconds=i)
            base, checks, verdict, confirmed = bases[k]
            data = insert_comment(base, scheme.seal(s, KEY, image_digest=digests[k],
                                                    captured_at=at))
            name = f"{s.id_number}.jpg"
            (folder / name).write_bytes(data)
            manifest.put(mf.Entry(student_id=s.student_id, name=s.name, id_number=s.id_number,
                                  college=s.college, class_name=s.class_name, file=name,
                                  captured_at=at.isoformat(), verdict=verdict,
                                  sha256=sha256_bytes(data), size=len(data), booth_id=booth,
                                  checks=checks, confirmed=confirmed))
        (folder / mf.MANIFEST_JSON).write_bytes(manifest.to_json())
        (folder / mf.MANIFEST_CSV).write_bytes(manifest.to_csv())
    return time.perf_counter() - t


def _tree_rss_kib(root: int) -> tuple[int, int]:
    """Resident memory of ``root`` and all its descendants now: (sum, largest), KiB."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/statm") as fh:
                pages = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue               # the process ended meanwhile
        parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry)] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(p for p, pp in parent.items() if pp == pid and p not in tree)
    sizes = [rss.get(p, 0) for p in tree]
    return sum(sizes), max(sizes, default=0)


def run(args: list[str]) -> tuple[float, float, float, int, float]:
    """Seconds, peak MiB of the whole process tree (the command and its workers, sampled
    every 50 ms), peak MiB of its largest process, exit status of ``kiosk`` with ``args``, and
    the CPU seconds of the whole tree (start-up and model loading included)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree = peak_one = 0
    stderr: list[bytes] = []
    import threading
    reader = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        total, largest = _tree_rss_kib(proc.pid)
        peak_tree, peak_one = max(peak_tree, total), max(peak_one, largest)
        time.sleep(0.05)
    seconds = time.perf_counter() - t
    reader.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode not in (0, 1):
        print(b"".join(stderr)[-2000:].decode(errors="replace"), file=sys.stderr)
    return seconds, peak_tree / 1024, peak_one / 1024, proc.returncode, cpu


def report(what: str, n: int, secs: float, mib: float, one: float, code: int,
           cpu: float) -> None:
    print(f"{what:<22}{n:>6,} photos {secs:7.1f} s {n / max(secs, 1e-9):7.1f} photos/s  "
          f"peak {mib:5.0f} MiB all processes ({one:.0f} the largest)  exit {code}  "
          f"CPU {cpu:.1f} s = {cpu / max(n, 1) * 1e3:.1f} ms a photo  load {_load()}",
          flush=True)


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=10_000)
    ap.add_argument("--image-photos", type=int, default=1_000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--merge-only", action="store_true", help="skip the two verify runs")
    ap.add_argument("--image-only", action="store_true",
                    help="only the verify with image checks (on --image-photos photos)")
    args = ap.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    load = os.getloadavg()
    print(f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores; "
          f"jobs: {args.jobs or 'all cores'}", flush=True)
    photos = engine_photos()
    verify_files = not (args.merge_only or args.image_only)
    with tempfile.TemporaryDirectory(prefix="registrar-bench-") as tmp:
        tmp = Path(tmp)
        key = tmp / "registrar.key"
        key.write_text(KEY.hex())
        key.chmod(0o600)
        if not args.image_only:
            built = build_class(tmp / "usb", args.photos, photos)
            print(f"class of {args.photos:,} photos in {args.photos // PER_FOLDER} folders built "
                  f"in {built:.1f} s ({len(photos)} engine photos re-sealed)", flush=True)
        if verify_files:
            secs, mib, one, code, cpu = run(["registrar", "verify", str(tmp / "usb"), "--key",
                                        str(key), "--no-image-checks", *jobs])
            report("verify, file rules:", args.photos, secs, mib, one, code, cpu)
        if not args.merge_only:
            ms = cpu_per_photo(photos)
            print(f"verify with image checks, one photo in one process: {ms:.1f} ms of CPU "
                  f"(≈ {2000 / ms:.0f} photos/s on 2 idle cores)  load {_load()}", flush=True)
            build_class(tmp / "small", args.image_photos, photos)
            secs, mib, one, code, cpu = run(["registrar", "verify", str(tmp / "small"), "--key",
                                        str(key), *jobs])
            report("verify, image checks:", args.image_photos, secs, mib, one, code, cpu)
        if not args.image_only:
            secs, mib, one, code, cpu = run(["registrar", "merge", str(tmp / "usb"), "--out",
                                        str(tmp / "batch"), "--key", str(key), *jobs])
            report("merge:", args.photos, secs, mib, one, code, cpu)
            size = sum(p.stat().st_size for p in (tmp / "batch").iterdir()) / 2**20
            print(f"  batch: {sum(1 for _ in (tmp / 'batch').glob('*.jpg')):,} photos, "
                  f"{size:.0f} MiB with index.html "
                  f"{(tmp / 'batch' / mf.INDEX_HTML).stat().st_size / 2**20:.0f} MiB")
    print(f"contact sheet thumbnails: {contact_sheet.THUMB_SIZE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
