"""From one photograph to a verified 480×640 file: the photo engine.

:func:`build_photo` runs the whole chain on a camera still (or any photograph)::

    judged   = judge_still(rgb, config=config, analyzer=analyzer)   # once per still:
        analysis = analyzer.analyze(rgb)                            #   models,
        plan     = plan_crop(analysis)                              #   where the 480×640 goes,
        checks   = run_checks(analysis, config, crop=plan)          #   every rule, judged there
    picture  = apply_crop(rgb, plan)          # crop + uniform downscale, nothing else
    encoded  = encode_within(picture, ...)    # highest quality ≥ 60 within 40 KB
    jpeg     = insert_comment(encoded, seal(student, key, digest of the file))
    report   = verify_bytes(jpeg, ...)        # the registrar's checks on the result

and :func:`write_photo` puts the bytes on disk atomically, reads the written file back and
verifies it again; a file that does not verify is removed, never handed over.

Nothing is computed twice: the burst judges every still once (:func:`judge_still`) and
``build_photo(..., judged=...)`` reuses the chosen still's analysis, plan and checks; the
finished bytes are analysed once (verify: layout and backdrop, no Pose); ``write_photo``
re-checks every file rule of what it reads back, and for the picture's own rules uses the
verification of the very same bytes when they compare equal.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.message import Message
from kiosk.photo.arrays import RGB
from kiosk.photo.checks.result import CheckResult, Status, verdict
from kiosk.photo.identity import DEFAULT_SCHEME, load_scheme
from kiosk.photo.jpeg import Encoded, comment_segment, digest_without_comments, encode_within, insert_comment
from kiosk.photo.student import Student, render_filename
from kiosk.photo.verify import FileReport, verify_bytes

if TYPE_CHECKING:
    from kiosk.config import Config
    from kiosk.photo.analysis import Analysis
    from kiosk.photo.crop import CropPlan

log = logging.getLogger(__name__)


class PhotoRejected(Exception):
    """The written file did not verify and was removed. ``message`` is bilingual."""

    def __init__(self, message: Message, report: FileReport | None = None) -> None:
        super().__init__(message.en)
        self.message = message
        self.report = report


@dataclass
class PhotoResult:
    """The outcome of :func:`build_photo`. ``jpeg`` is set only when a file could be made."""

    ok: bool                                   # the file may be handed over
    jpeg: bytes | None
    capture_checks: list[CheckResult]          # judged on the camera frame, in the planned crop
    report: FileReport | None                  # verification of the finished bytes
    quality: int | None = None
    encode_attempts: int = 0
    size_warning: Message | None = None        # the 20–40 KB band could not be met
    problem: Message | None = None             # why there is no file (no crop, failed checks)
    student: Student | None = None
    captured_at: dt.datetime | None = None
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage

    @property
    def checks(self) -> list[CheckResult]:
        """Capture checks followed by the file checks."""
        return self.capture_checks + (self.report.checks if self.report else [])

    @property
    def verdict(self) -> Status:
        if self.jpeg is None:
            return Status.FAIL
        return verdict(self.checks)


@dataclass
class Judged:
    """One still, judged: its analysis, crop plan and every rule in that crop."""

    analysis: Analysis
    plan: CropPlan
    checks: list[CheckResult]
    timings: dict[str, float] = field(default_factory=dict)   # seconds: "analyze", "checks"
    picture: RGB | None = None                                # the 480×640 crop, if the checks made it


def judge_still(rgb: RGB, *, config: "Config", analyzer: Any) -> Judged:
    """Analyse a still once, plan its crop and run every check in it."""
    from kiosk.photo.checks import run_checks  # the vision side
    from kiosk.photo.checks.context import CheckContext
    from kiosk.photo.crop import plan_crop

    t = time.perf_counter()
    analysis = analyzer.analyze(rgb)
    t1 = time.perf_counter()
    plan = plan_crop(analysis)
    ctx = CheckContext(analysis, config, plan)
    checks = list(run_checks(analysis, config, crop=plan, context=ctx))
    # the checks' view of a planned crop is apply_crop(rgb, plan): the very picture to encode
    picture = ctx.__dict__.get("rgb") if plan.box is not None else None
    return Judged(analysis, plan, checks,
                  {"analyze": t1 - t, "checks": time.perf_counter() - t1}, picture)


def build_photo(rgb: RGB, student: Student, *, config: "Config", analyzer: Any, key: bytes,
                captured_at: dt.datetime | None = None, judged: Judged | None = None) -> PhotoResult:
    """Check, crop, encode, seal and verify one photograph of ``student``.

    ``judged``: :func:`judge_still` of this very ``rgb``, already made (the burst judged every
    still to choose one); otherwise it is made here.
    Stops early (``jpeg=None``) when no valid crop exists or a capture check blocks the photo:
    ``problem`` and ``capture_checks`` then say what the person must change.
    """
    from kiosk.photo.crop import apply_crop

    when = captured_at or dt.datetime.now(dt.timezone.utc)
    if judged is None:
        judged = judge_still(rgb, config=config, analyzer=analyzer)
    elif getattr(judged.analysis, "image", rgb) is not rgb:
        raise ValueError("judged is the judgement of another picture")
    timings: dict[str, float] = dict(judged.timings)
    plan, capture_checks = judged.plan, list(judged.checks)
    result = PhotoResult(ok=False, jpeg=None, capture_checks=capture_checks, report=None,
                         student=student, captured_at=when, timings=timings)
    if not plan.ok:
        result.problem = plan.problem or Message("无法裁剪出合格的照片", "no valid crop exists")
        return result
    if verdict(capture_checks) == Status.FAIL:
        failing = [c for c in capture_checks if c.blocking]
        worst = max(failing, key=lambda c: c.severity)
        result.problem = worst.message
        return result

    t = time.perf_counter()
    picture = judged.picture if judged.picture is not None else apply_crop(rgb, plan)
    timings["crop"] = time.perf_counter() - t

    t = time.perf_counter()
    jpeg, encoded = encode_and_seal(picture, student, key=key, captured_at=when,
                                    scheme_name=config.booth.identity_scheme)
    timings["encode"] = time.perf_counter() - t

    t = time.perf_counter()
    report = verify_bytes(jpeg, key=key, expected=student, analyzer=analyzer, config=config)
    timings["verify"] = time.perf_counter() - t

    result.jpeg = jpeg
    result.report = report
    result.quality = encoded.quality
    result.encode_attempts = encoded.attempts
    result.size_warning = encoded.size_problem
    result.ok = result.verdict != Status.FAIL
    if not result.ok:
        failing = [c for c in report.checks if c.blocking]
        result.problem = failing[0].message if failing else None
    log.info("photo for %s: %s, quality %d, %d bytes, %d encodes", student.masked(),
             result.verdict.value, encoded.quality, len(jpeg), encoded.attempts)
    return result


def encode_and_seal(picture: RGB, student: Student, *, key: bytes,
                    captured_at: dt.datetime | None = None,
                    scheme_name: str = DEFAULT_SCHEME) -> tuple[bytes, Encoded]:
    """The finished file for a 480×640 ``picture``: size-searched JPEG + sealed identity comment.

    The identity is sealed with the SHA-256 of the encoded file (without its comment), so the
    comment vouches for exactly these pixels. Returns the bytes and the size search's outcome.
    """
    when = captured_at or dt.datetime.now(dt.timezone.utc)
    scheme = load_scheme(scheme_name)
    # The comment's length does not depend on the digest's value: seal a placeholder to know
    # how many bytes to keep free while searching the quality.
    reserve = len(comment_segment(scheme.seal(student, key, image_digest=bytes(32),
                                              captured_at=when)))
    encoded = encode_within(picture, reserve=reserve)
    comment = scheme.seal(student, key, image_digest=digest_without_comments(encoded.data),
                          captured_at=when)
    return insert_comment(encoded.data, comment), encoded


def write_photo(result: PhotoResult, out_dir: str | os.PathLike[str], template: str, *,
                key: bytes, config: "Config", analyzer: Any = None) -> Path:
    """Write ``result.jpeg`` into ``out_dir`` under the templated name; return the path.

    The bytes go to a hidden temporary file in the same folder, are flushed to the device
    (fsync), renamed over the final name (atomic on POSIX file systems, FAT included) and the
    folder is synced. Then the file is read back from disk and verified again; if it does not
    verify it is removed and :class:`PhotoRejected` is raised.
    """
    if not result.ok or result.jpeg is None or result.student is None:
        raise PhotoRejected(result.problem or Message("照片未通过检查", "the photo did not pass"))
    out_dir = Path(out_dir)
    name = render_filename(template, result.student)       # raises InvalidIdentity if unsafe
    final = out_dir / name
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(result.jpeg)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(out_dir)
    data = final.read_bytes()
    if data == result.jpeg and result.report is not None:
        # the very bytes build_photo verified: every file rule again (what the disk holds), the
        # picture's own rules (layout, backdrop) from that verification, not analysed twice
        image_checks = [c for c in result.report.checks if not c.id.startswith("file.")]
        report = verify_bytes(data, key=key, expected=result.student, config=config,
                              path=str(final), image_checks=image_checks)
    else:
        report = verify_bytes(data, key=key, expected=result.student, analyzer=analyzer,
                              config=config, path=str(final))
    if not report.ok or data != result.jpeg:
        final.unlink(missing_ok=True)
        _fsync_dir(out_dir)
        failing = [c for c in report.checks if c.blocking]
        raise PhotoRejected(failing[0].message if failing else
                            Message("写入的文件与生成的不一致", "the written file differs from the photo"),
                            report)
    log.info("wrote %s", final)
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass          # some file systems cannot sync a directory; the file itself is synced
    finally:
        os.close(fd)
