"""Verify a finished file the way the registrar's office would, rule by rule.

:func:`verify_file` (or :func:`verify_bytes` for bytes in memory) answers every file rule of the
standard with a :class:`~kiosk.photo.checks.result.CheckResult`, then decodes the picture and re-runs
the layout, background and face-count checks on it (the same checks the booth used on the
camera frame, now judged inside the 480×640 picture itself)::

    report = verify_file("11010519491231002X.jpg", key=load_key("registrar.key"),
                         expected=student, analyzer=analyzer, config=config)
    report.verdict        # Status.PASS / WARN / FAIL
    report.identity       # the SealedIdentity from the comment, or None

The rules checked on the file:

``file.format``       baseline (SOF0) JPEG, JFIF APP0 first, 8-bit samples, .jpg/.JPG name
``file.dimensions``   480 × 640
``file.dpi``          JFIF density 300 × 300, unit dots per inch
``file.color``        3 components of 8 bits, decodes as RGB (no grayscale, CMYK, alpha)
``file.quality``      IJG quality estimated from the quantisation tables ≥ 60
``file.size``         20–40 KB; outside the band is a warning, never a silent pass
``file.clean``        nothing added: no bytes after the end-of-image marker, no EXIF, ICC, XMP
                      or other APPn segment besides JFIF
``file.id_embedded``  exactly one COM segment that opens under the key and names the expected
                      student (same student number and ID-card number)
``file.untransformed`` the file is byte for byte the picture the booth sealed: the identity
                      carries a SHA-256 of the file without its comment, so re-saving, mirroring
                      (even losslessly), rotating, cropping or editing after the fact fails
``file.recent``       capture time in the identity within a year (warning otherwise)

Without a key the comment cannot be opened: ``file.id_embedded`` and ``file.untransformed`` are
then *warnings* ("not checked without the key"), provided exactly one comment is present and it
has the form of a known scheme, so a student can check a file without the registrar's secret
while the registrar (with the key) gets a hard answer. A missing, doubled or unrecognisable
comment fails with or without a key.

With ``analyzer=None`` only the file rules are checked (no models needed).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.arrays import RGB
from kiosk.photo.checks.result import CheckResult, Status, verdict
from kiosk.photo.decode import ImageRefused, check_dimensions
from kiosk.photo.identity import (
    DEFAULT_SCHEME,
    IdentityError,
    SealedIdentity,
    available_schemes,
    load_scheme,
    scheme_for_comment,
)
from kiosk.photo.jpeg import APP0, JpegError, JpegInfo, digest_without_comments, estimate_quality, parse_jpeg
from kiosk.photo.student import Student, mask_id_number

if TYPE_CHECKING:
    from kiosk.config import Config

log = logging.getLogger(__name__)



@dataclass
class FileReport:
    """Everything known about one file: per-rule results, the identity inside, the verdict."""

    path: str | None
    checks: list[CheckResult]
    identity: SealedIdentity | None = None
    verdict: Status = Status.FAIL
    info: JpegInfo | None = field(default=None, repr=False)
    quality: int | None = None

    @property
    def ok(self) -> bool:
        """True when the file may be handed over (pass or warn)."""
        return self.verdict != Status.FAIL

    def check(self, rule_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == rule_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The command line's JSON object for this file."""
        return {"file": self.path, "verdict": self.verdict.value,
                "checks": [c.to_dict() for c in self.checks]}


def verify_file(path: str | os.PathLike[str], *, key: bytes | None, expected: Student | None = None,
                analyzer: Any = None, config: "Config | None" = None) -> FileReport:
    """Read ``path`` and :func:`verify_bytes` it. Raises OSError when the file cannot be read."""
    data = Path(path).read_bytes()
    return verify_bytes(data, key=key, expected=expected, analyzer=analyzer, config=config,
                        path=str(path))


def verify_bytes(data: bytes, *, key: bytes | None, expected: Student | None = None,
                 analyzer: Any = None, config: "Config | None" = None,
                 path: str | None = None, image_checks: list[CheckResult] | None = None) -> FileReport:
    """Check ``data`` against every file rule; see the module docstring for what each means.

    ``key`` opens the identity (None: identity rules are warnings, see above); ``expected`` is
    the student the file must belong to (None: any valid identity passes); ``path`` is used for
    the extension rule and the report. ``image_checks``: the picture's rules of these very
    bytes, judged already (kiosk.photo.engine.write_photo) instead of with ``analyzer``.
    """
    checks: list[CheckResult] = []
    try:
        info = parse_jpeg(data)
    except JpegError as exc:
        checks.append(_fail("file.format", "not JPEG", "baseline JPEG (JFIF)",
                            Message("不是有效的JPEG文件（文件损坏、不完整或是其他格式）",
                                    f"not a valid JPEG file: {exc}")))
        return FileReport(path, checks, verdict=verdict(checks))

    try:    # the size from the frame header, before a single pixel is decoded
        check_dimensions(info.width, info.height)
        rgb, decode_problem = _decode(data)
    except ImageRefused as exc:
        rgb, decode_problem = None, f"not decoded: {exc.message.en}"
    checks.append(_format(info, path, decode_problem))
    checks.append(_dimensions(info))
    checks.append(_dpi(info))
    checks.append(_color(info, rgb))
    quality = estimate_quality(info)
    checks.append(_quality(quality))
    checks.append(_size(len(data)))
    checks.append(_clean(info))
    scheme_name = config.booth.identity_scheme if config is not None else DEFAULT_SCHEME
    id_check, identity = _identity(info, key, expected, scheme_name)
    checks.append(id_check)
    checks.append(_untransformed(data, identity, key, id_check))
    if identity is not None and identity.captured_at is not None:
        checks.append(_recent(identity.captured_at))
    if image_checks is not None:
        checks.extend(image_checks)
    elif analyzer is not None:
        checks.extend(_image_checks(rgb, analyzer, config))
    return FileReport(path, checks, identity=identity, verdict=verdict(checks), info=info,
                      quality=quality)


# --- one function per rule ------------------------------------------------------------------------

def _decode(data: bytes) -> tuple[RGB | None, str | None]:
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.mode != "RGB":
                return None, f"decodes as {im.mode}, not RGB"
            return np.asarray(im), None
    except Exception as exc:   # noqa: BLE001 - any decoder complaint (OSError, SyntaxError, ...)
        return None, f"cannot be decoded: {exc}"      # is a property of the file, not a crash


def _format(info: JpegInfo, path: str | None, decode_problem: str | None) -> CheckResult:
    limit = "baseline JPEG (SOF0), JFIF, 8-bit, " + "/".join(standard.FILE_EXTENSIONS)
    problems = []
    if not info.baseline:
        kind = "progressive" if info.progressive else (
            f"SOF 0x{info.sof_marker:02X}" if info.sof_marker else "no frame header")
        problems.append((f"不是基线JPEG（{kind}）", f"not a baseline JPEG ({kind})"))
    if not info.first_is_jfif:
        problems.append(("缺少JFIF文件头", "no JFIF header right after the start marker"))
    if info.precision not in (0, 8):
        problems.append((f"采样精度为{info.precision}位", f"{info.precision}-bit samples"))
    if path is not None and not Path(path).name.endswith(standard.FILE_EXTENSIONS):
        problems.append(("扩展名应为 .jpg 或 .JPG", "the extension must be .jpg or .JPG"))
    if decode_problem and "cannot be decoded" in decode_problem:
        problems.append(("图像数据无法解码", f"the picture {decode_problem}"))
    if problems:
        return _fail("file.format", problems[0][1], limit,
                     Message("；".join(p[0] for p in problems), "; ".join(p[1] for p in problems)))
    return _pass("file.format", "baseline JFIF", limit)


def _dimensions(info: JpegInfo) -> CheckResult:
    want = (standard.FRAME_WIDTH, standard.FRAME_HEIGHT)
    got = f"{info.width}×{info.height}"
    limit = f"{want[0]}×{want[1]} px"
    if (info.width, info.height) == want:
        return _pass("file.dimensions", got, limit)
    return _fail("file.dimensions", got, limit,
                 Message(f"尺寸为{got}，应为宽{want[0]}×高{want[1]}像素",
                         f"the picture is {got} px, it must be {want[0]} wide × {want[1]} high"))


def _dpi(info: JpegInfo) -> CheckResult:
    limit = f"JFIF {standard.DPI}×{standard.DPI} dpi"
    j = info.jfif
    if j is None:
        return _fail("file.dpi", None, limit, Message("文件没有写入分辨率（无JFIF）",
                                                      "no resolution in the file (no JFIF header)"))
    unit = {0: "aspect", 1: "dpi", 2: "dpcm"}.get(j.units, f"unit {j.units}")
    got = f"{j.x_density}×{j.y_density} {unit}"
    if j.units == 1 and j.x_density == j.y_density == standard.DPI:
        return _pass("file.dpi", got, limit)
    return _fail("file.dpi", got, limit, Message(f"分辨率为{got}，应为{standard.DPI} dpi",
                                                 f"resolution is {got}, it must be {standard.DPI} dpi"))


def _color(info: JpegInfo, rgb: RGB | None) -> CheckResult:
    limit = "24-bit colour: 3 × 8 bits"
    got = f"{info.components}×{info.precision} bit"
    if info.components == standard.CHANNELS and info.precision == 8 and rgb is not None:
        return _pass("file.color", got, limit)
    return _fail("file.color", got, limit,
                 Message(f"颜色格式为{got}，应为24位真彩色（RGB）",
                         f"colour is {got}, it must be 24-bit true colour (RGB)"))


def _quality(quality: int | None) -> CheckResult:
    limit = f"≥ {standard.JPEG_MIN_QUALITY}"
    if quality is None:
        return CheckResult("file.quality", Status.UNKNOWN, None, limit,
                           Message("无法估计压缩质量（没有量化表）",
                                   "the quality cannot be estimated (no quantisation tables)"))
    if quality >= standard.JPEG_MIN_QUALITY:
        return _pass("file.quality", quality, limit)
    return _fail("file.quality", quality, limit,
                 Message(f"压缩质量约为{quality}，应不低于{standard.JPEG_MIN_QUALITY}",
                         f"JPEG quality is about {quality}, it must be at least "
                         f"{standard.JPEG_MIN_QUALITY}"), severity=standard.JPEG_MIN_QUALITY - quality)


def _size(size: int) -> CheckResult:
    band = standard.FILE_SIZE
    limit = f"{band.lo / 1024:g}–{band.hi / 1024:g} KB ({band.lo:g}–{band.hi:g} bytes)"
    if band.contains(size):
        return _pass("file.size", size, limit)
    where = "大于" if size > band.hi else "小于"
    return CheckResult("file.size", Status.WARN, size, limit,
                       Message(f"文件大小为{size / 1024:.1f} KB，{where}建议范围",
                               f"the file is {size / 1024:.1f} KB, outside the usual 20–40 KB"),
                       severity=-band.margin(size))


def _clean(info: JpegInfo) -> CheckResult:
    limit = "nothing added: no data after the end marker, no metadata segments"
    extra = [f"APP{m - APP0}:{ident.decode('latin-1')}" for m, ident in info.app_segments
             if not (m == APP0 and ident == b"JFIF")]
    if info.trailing:
        return _fail("file.clean", f"{len(info.trailing)} bytes after EOI", limit,
                     Message(f"文件结束标记后被附加了{len(info.trailing)}字节",
                             f"{len(info.trailing)} bytes were added after the end of the picture"))
    if extra:
        return _fail("file.clean", ", ".join(extra), limit,
                     Message("文件中含有多余的元数据（如EXIF、ICC）",
                             "the file carries extra metadata (" + ", ".join(extra) + ")"))
    return _pass("file.clean", "clean", limit)


def _identity(info: JpegInfo, key: bytes | None, expected: Student | None,
              scheme_name: str) -> tuple[CheckResult, SealedIdentity | None]:
    limit = "one COM segment, decrypts to the expected student"
    rid = "file.id_embedded"
    if len(info.comments) != 1:
        n = len(info.comments)
        return _fail(rid, f"{n} COM segments", limit,
                     Message(f"注释段中应恰好有一段加密身份信息，现在有{n}段",
                             f"the file must carry exactly one comment segment with the encrypted "
                             f"identity; it has {n}")), None
    comment = info.comments[0]
    recognised = any(_recognises(name, comment) for name in available_schemes())
    if not recognised and key is None:
        # No scheme this booth knows wrote it (another program's comment, a hand edit): the
        # registrar's key cannot help either, so it fails here too (see the module docstring).
        return _fail(rid, "unrecognised", limit,
                     Message("注释段不是任何已知的身份加密格式",
                             "the comment is in no known identity format")), None
    if key is None:
        return CheckResult(rid, Status.WARN, "present, no key", limit,
                           Message("有加密身份信息；没有密钥，未核对",
                                   "an encrypted identity is present; not checked without the key")), None
    try:
        identity = scheme_for_comment(comment, default=scheme_name).open(comment, key)
    except IdentityError as exc:
        return _fail(rid, "cannot open", limit, exc.message), None
    shown = mask_id_number(identity.id_number)
    if expected is not None and not identity.matches(expected):
        return _fail(rid, shown, limit,
                     Message("文件中的身份信息属于另一位学生",
                             "the identity in the file belongs to another student")), identity
    if identity.school_code != standard.SCHOOL_CODE:
        return CheckResult(rid, Status.WARN, shown, limit,
                           Message(f"学校代码为{identity.school_code}，不是{standard.SCHOOL_CODE}",
                                   f"school code {identity.school_code}, not {standard.SCHOOL_CODE}")
                           ), identity
    return _pass(rid, shown, limit), identity


def _recognises(name: str, comment: bytes) -> bool:
    try:
        return load_scheme(name).recognises(comment)
    except IdentityError:
        return False


def _untransformed(data: bytes, identity: SealedIdentity | None, key: bytes | None,
                   id_check: CheckResult) -> CheckResult:
    rid, limit = "file.untransformed", "the picture the booth sealed, unchanged"
    if identity is None:
        if key is None and id_check.status == Status.WARN:
            return CheckResult(rid, Status.WARN, "no key", limit,
                               Message("没有密钥，无法确认照片未被改动",
                                       "without the key, changes to the picture cannot be ruled out"))
        return CheckResult(rid, Status.UNKNOWN, None, limit,
                           Message("没有可用的身份信息，无法确认照片未被改动",
                                   "no readable identity: changes to the picture cannot be ruled out"))
    if identity.image_digest is None:
        return CheckResult(rid, Status.WARN, "not bound", limit,
                           Message("该身份方案不绑定图像，无法确认照片未被改动",
                                   "this identity scheme does not bind the picture; changes cannot "
                                   "be ruled out"))
    if digest_without_comments(data) == identity.image_digest:
        return _pass(rid, "unchanged", limit)
    return _fail(rid, "changed", limit,
                 Message("照片在制作后被改动过（重新保存、镜像、裁剪或编辑）",
                         "the picture was changed after it was made (re-saved, mirrored, cropped "
                         "or edited)"))


def _recent(captured_at: dt.datetime) -> CheckResult:
    age = (dt.datetime.now(dt.timezone.utc) - captured_at).total_seconds() / 86400
    limit = f"taken within {standard.RECENT_DAYS} days"
    if age <= standard.RECENT_DAYS:
        return _pass("file.recent", round(age, 1), limit)
    return CheckResult("file.recent", Status.WARN, round(age, 1), limit,
                       Message("照片拍摄已超过一年", "the photo was taken more than a year ago"),
                       severity=age - standard.RECENT_DAYS)


def _image_checks(rgb: RGB | None, analyzer: Any, config: Config | None) -> list[CheckResult]:
    from kiosk.photo.checks import LAYOUT_AND_BACKGROUND_IDS, run_checks  # the vision side, when used

    ids = LAYOUT_AND_BACKGROUND_IDS
    if rgb is None:
        return [CheckResult(i, Status.UNKNOWN, None, None,
                            Message("图像无法解码，无法检查", "the picture cannot be decoded"))
                for i in ids]
    if config is None:
        from kiosk.config import Config
        config = Config()
    # no shoulders: none of these rules looks at them, and Pose is never loaded for a file
    return list(run_checks(analyzer.analyze(rgb, shoulders=False), config, crop=None, ids=ids))


def _pass(rid: str, value: float | str | None, limit: str) -> CheckResult:
    return CheckResult(rid, Status.PASS, value, limit, Message("符合要求", "meets the standard"))


def _fail(rid: str, value: float | str | None, limit: str, message: Message, severity: float = 1.0) -> CheckResult:
    return CheckResult(rid, Status.FAIL, value, limit, message, severity=severity)
