"""Benchmark of the registrar's tools on a graduating class: verify and merge speed and memory.

    .venv/bin/python bench/registrar.py [--photos 10000] [--image-photos 1000] [--jobs N]

Builds a class of ``--photos`` students exported by 20 booth-days (500 a folder): a few real
photos made by the engine from composed booth scenes (Grace Hopper, a real face, on the blue
backdrop, at a few positions) are re-sealed for each student (a new sealed identity over the
same pixels is cheap; running the camera pipeline 10,000 times is not). Every folder gets a
real ``manifest.json``/``manifest.csv`` with the engine's check results.

Then it runs the real commands in a child process and prints their rate and peak memory
(the largest process, from ``getrusage``):

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
            scene = compose_scene("hopper", "blue", dx=0.02 * (k % 3 - 1), dy=0.01 * (k % 2),
                                  seed=k)
            photo = build_photo(scene, student(k), config=config, analyzer=analyzer, key=KEY)
            if photo.ok:
                made.append((photo.jpeg, [c.to_dict() for c in photo.checks],
                             photo.verdict.value))
            if len(made) == count:
                break
    finally:
        analyzer.close()
    if not made:
        raise SystemExit("the engine made no photo from the scenes")
    return made


def strip_comment(data: bytes) -> bytes:
    return b"".join(data[s.start:s.end] for s in read_segments(data) if s.marker != COM)


def build_class(root: Path, n: int, photos) -> float:
    scheme = load_scheme()
    bases = [(strip_comment(j), checks, verdict) for j, checks, verdict in photos]
    digests = [digest_without_comments(b) for b, _, _ in bases]
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
            base, checks, verdict = bases[k]
            data = insert_comment(base, scheme.seal(s, KEY, image_digest=digests[k],
                                                    captured_at=at))
            name = f"{s.id_number}.jpg"
            (folder / name).write_bytes(data)
            manifest.put(mf.Entry(student_id=s.student_id, name=s.name, id_number=s.id_number,
                                  college=s.college, class_name=s.class_name, file=name,
                                  captured_at=at.isoformat(), verdict=verdict,
                                  sha256=sha256_bytes(data), size=len(data), booth_id=booth,
                                  checks=checks))
        (folder / mf.MANIFEST_JSON).write_bytes(manifest.to_json())
        (folder / mf.MANIFEST_CSV).write_bytes(manifest.to_csv())
    return time.perf_counter() - t


# Runs the command and reports the peak memory of the largest process of its tree only.
_WRAP = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], "
         "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN)"
         ".ru_maxrss, r.returncode)")


def run(args: list[str]) -> tuple[float, float, int]:
    """Seconds, peak MiB of the largest process, exit status of ``kiosk`` with ``args``."""
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAP, sys.executable, "-m", "kiosk.cli",
                           *args], capture_output=True, text=True)
    seconds = time.perf_counter() - t
    peak_kib, code = done.stdout.split()
    if int(code) not in (0, 1):
        print(done.stderr[-2000:], file=sys.stderr)
    return seconds, int(peak_kib) / 1024, int(code)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=10_000)
    ap.add_argument("--image-photos", type=int, default=1_000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--merge-only", action="store_true", help="skip the two verify runs")
    args = ap.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    load = os.getloadavg()
    print(f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores; "
          f"jobs: {args.jobs or 'all cores'}", flush=True)
    photos = engine_photos()
    with tempfile.TemporaryDirectory(prefix="registrar-bench-") as tmp:
        tmp = Path(tmp)
        key = tmp / "registrar.key"
        key.write_text(KEY.hex())
        key.chmod(0o600)
        built = build_class(tmp / "usb", args.photos, photos)
        print(f"class of {args.photos:,} photos in {args.photos // PER_FOLDER} folders built in "
              f"{built:.1f} s ({len(photos)} engine photos re-sealed)", flush=True)
        if args.merge_only:
            args.photos_verified = 0
        secs, mib, code = (0.0, 0.0, 0) if args.merge_only else run(
            ["registrar", "verify", str(tmp / "usb"), "--key", str(key), "--no-image-checks",
             *jobs])
        print(f"verify, file rules:   {args.photos:>6,} photos {secs:7.1f} s "
              f"{args.photos / max(secs, 1e-9):7.1f} photos/s  peak {mib:6.0f} MiB  exit {code}", flush=True)
        n_img = 0 if args.merge_only else args.image_photos
        build_class(tmp / "small", n_img, photos)
        target = str(tmp / "small")
        secs, mib, code = (0.0, 0.0, 0) if args.merge_only else run(
            ["registrar", "verify", target, "--key", str(key), *jobs])
        print(f"verify, image checks: {n_img:>6,} photos {secs:7.1f} s "
              f"{n_img / max(secs, 1e-9):7.1f} photos/s  peak {mib:6.0f} MiB  exit {code}", flush=True)
        secs, mib, code = run(["registrar", "merge", str(tmp / "usb"), "--out",
                               str(tmp / "batch"), "--key", str(key), *jobs])
        print(f"merge:                {args.photos:>6,} photos {secs:7.1f} s "
              f"{args.photos / max(secs, 1e-9):7.1f} photos/s  peak {mib:6.0f} MiB  exit {code}", flush=True)
        size = sum(p.stat().st_size for p in (tmp / "batch").iterdir()) / 2**20
        print(f"  batch: {sum(1 for _ in (tmp / 'batch').glob('*.jpg')):,} photos, "
              f"{size:.0f} MiB with index.html "
              f"{(tmp / 'batch' / mf.INDEX_HTML).stat().st_size / 2**20:.0f} MiB")
    print(f"contact sheet thumbnails: {contact_sheet.THUMB_SIZE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
