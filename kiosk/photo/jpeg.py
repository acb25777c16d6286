"""Baseline JPEG files the way the standard wants them, and a small reader to prove it.

Writing: :func:`encode_within` encodes a 480×640 RGB picture as a baseline JFIF file at 300×300
dpi with Pillow, with no EXIF, ICC or other APPn segment, and searches (binary search, each
encode counted) for the highest quality ≥ 60 whose file, *including* the comment segment that
will be added, fits in 40 KB. When the 20–40 KB band cannot be met it says so; it never pads.
:func:`insert_comment` then splices exactly one COM segment right after the JFIF APP0 segment,
where Pillow's own ``comment=`` option puts it (the tests check both give identical bytes). The
comment is inserted afterwards, not passed to Pillow, so that the identity sealed into it can
carry a digest of the finished picture (:func:`digest_without_comments`).

Reading: :func:`read_segments` walks the markers of any JPEG (also progressive, with restart
markers and fill bytes), :func:`parse_jpeg` derives what the registrar checks (frame size,
components, precision, baseline or progressive, JFIF density, APPn and COM segments, quantisation
tables, bytes after the end marker), and :func:`estimate_quality` recovers the IJG quality
factor from the luminance (and chrominance) quantisation tables the way common tools do.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.arrays import RGB

log = logging.getLogger(__name__)

#: Highest quality the size search tries. Pillow's documentation advises against values above
#: 95 (100 disables parts of the compression for hardly any visible gain); at 480×640 a real
#: portrait above 95 is far beyond 40 KB anyway.
MAX_QUALITY = 95
CHROMA_SUBSAMPLING = "4:2:0"   # the libjpeg default: more of the 40 KB goes to luminance detail

SOI, EOI, SOS, DQT, COM, APP0 = 0xD8, 0xD9, 0xDA, 0xDB, 0xFE, 0xE0
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
PROGRESSIVE_SOF = {0xC2, 0xC6, 0xCA, 0xCE}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}   # TEM and RST0..7 carry no length

# The IJG/Annex K example tables (natural row-major order) that libjpeg scales by quality.
STD_LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.int64)
STD_CHROMINANCE = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32)], dtype=np.int64)
# ZIGZAG[k] = natural index of the k-th coefficient as stored in a DQT segment.
ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])


class JpegError(ValueError):
    """The bytes are not a JPEG file this reader can follow (truncated, garbage between markers)."""


@dataclass(frozen=True)
class Segment:
    """One marker segment. ``start``/``end`` are byte offsets; for SOS, ``end`` includes the scan."""

    marker: int
    start: int
    end: int
    payload: bytes = b""      # the segment's body after the length field (SOS: its header only)

    @property
    def name(self) -> str:
        return _marker_name(self.marker)


@dataclass(frozen=True)
class Jfif:
    version: tuple[int, int]
    units: int                # 0 = aspect ratio only, 1 = dots per inch, 2 = dots per cm
    x_density: int
    y_density: int


@dataclass
class JpegInfo:
    """What the registrar checks in a file, read from its markers (no decoding)."""

    segments: list[Segment]
    trailing: bytes                           # anything after the end-of-image marker
    sof_marker: int | None = None
    width: int = 0
    height: int = 0
    precision: int = 0
    components: int = 0
    component_tables: list[int] = field(default_factory=list)   # quant table id per component
    jfif: Jfif | None = None
    comments: list[bytes] = field(default_factory=list)
    app_segments: list[tuple[int, bytes]] = field(default_factory=list)  # (marker, identifier)
    quant_tables: dict[int, NDArray[np.int64]] = field(default_factory=dict)    # natural order

    @property
    def baseline(self) -> bool:
        return self.sof_marker == 0xC0

    @property
    def progressive(self) -> bool:
        return self.sof_marker in PROGRESSIVE_SOF

    @property
    def first_is_jfif(self) -> bool:
        """The JFIF APP0 segment directly follows SOI, as JFIF requires."""
        return (len(self.segments) > 1 and self.segments[1].marker == APP0
                and self.segments[1].payload[:5] == b"JFIF\0")


@dataclass(frozen=True)
class Encoded:
    """The outcome of the size search."""

    data: bytes                  # the JPEG without its comment segment
    quality: int
    attempts: int                # how many times the picture was encoded
    final_size: int              # size once the reserved comment is in
    size_problem: Message | None # set when the 20–40 KB band could not be met


# --- reading -------------------------------------------------------------------------------------

def read_segments(data: bytes) -> list[Segment]:
    """All marker segments from SOI to EOI, in order. Raises :class:`JpegError` if malformed.

    Entropy-coded data after each SOS is skipped the way a decoder does: ``FF 00`` is a stuffed
    byte, ``FF D0``–``FF D7`` are restart markers, runs of ``FF`` are fill bytes.
    """
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise JpegError("not a JPEG file (no start-of-image marker)")
    segments = [Segment(SOI, 0, 2)]
    i = 2
    while True:
        if i >= n:
            raise JpegError("file ends before the end-of-image marker")
        if data[i] != 0xFF:
            raise JpegError(f"unexpected byte 0x{data[i]:02x} at offset {i}, expected a marker")
        start = i
        while i < n and data[i] == 0xFF:       # fill bytes
            i += 1
        if i >= n:
            raise JpegError("file ends inside a marker")
        marker = data[i]
        i += 1
        if marker == EOI:
            segments.append(Segment(EOI, start, i))
            return segments
        if marker in _STANDALONE:
            segments.append(Segment(marker, start, i))
            continue
        if i + 2 > n:
            raise JpegError("file ends inside a segment length")
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2 or i + length > n:
            raise JpegError(f"{_marker_name(marker)} segment at offset {start} has a bad length")
        payload = bytes(data[i + 2:i + length])
        i += length
        if marker == SOS:
            i = _skip_entropy_coded(data, i)
        segments.append(Segment(marker, start, i, payload))


def _skip_entropy_coded(data: bytes, i: int) -> int:
    n = len(data)
    while True:
        j = data.find(b"\xff", i)
        if j < 0 or j + 1 >= n:
            raise JpegError("file ends inside the image data")
        nxt = data[j + 1]
        if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
            i = j + 2
        elif nxt == 0xFF:
            i = j + 1
        else:
            return j


def parse_jpeg(data: bytes) -> JpegInfo:
    """Read the markers of ``data`` into a :class:`JpegInfo`. Raises :class:`JpegError`."""
    segments = read_segments(data)
    info = JpegInfo(segments=segments, trailing=bytes(data[segments[-1].end:]))
    for seg in segments:
        m, p = seg.marker, seg.payload
        if m in SOF_MARKERS and info.sof_marker is None:
            if len(p) < 6:
                raise JpegError("frame header too short")
            info.sof_marker = m
            info.precision = p[0]
            info.height = int.from_bytes(p[1:3], "big")
            info.width = int.from_bytes(p[3:5], "big")
            info.components = p[5]
            info.component_tables = [p[6 + 3 * k + 2] for k in range(info.components)
                                     if 6 + 3 * k + 2 < len(p)]
        elif m == DQT:
            _read_dqt(p, info.quant_tables)
        elif m == COM:
            info.comments.append(p)
        elif 0xE0 <= m <= 0xEF:
            ident = p.split(b"\0", 1)[0][:20]
            info.app_segments.append((m, ident))
            if m == APP0 and p[:5] == b"JFIF\0" and len(p) >= 12 and info.jfif is None:
                info.jfif = Jfif(version=(p[5], p[6]), units=p[7],
                                 x_density=int.from_bytes(p[8:10], "big"),
                                 y_density=int.from_bytes(p[10:12], "big"))
    return info


def _read_dqt(p: bytes, tables: dict[int, NDArray[np.int64]]) -> None:
    i = 0
    while i < len(p):
        pq, tq = p[i] >> 4, p[i] & 0x0F
        size = 128 if pq else 64
        raw = p[i + 1:i + 1 + size]
        if len(raw) != size:
            raise JpegError("quantisation table truncated")
        zz = np.frombuffer(raw, dtype=">u2" if pq else np.uint8).astype(np.int64)
        natural = np.empty(64, dtype=np.int64)
        natural[ZIGZAG] = zz
        tables[tq] = natural
        i += 1 + size


# --- quality estimation ---------------------------------------------------------------------------

def ijg_table(base: NDArray[np.int64], quality: int, *, max_value: int = 255) -> NDArray[np.int64]:
    """The table libjpeg's ``jpeg_set_quality(quality)`` makes from ``base`` (jcparam.c)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((base * scale + 50) // 100, 1, max_value)


def estimate_quality(data: bytes | JpegInfo) -> int | None:
    """The IJG quality factor (1–100) whose tables best match the file's, or None without tables.

    Like ImageMagick's and libjpeg's own tools, it assumes the tables are the standard IJG tables
    scaled by ``jpeg_set_quality``; it tries every quality and keeps the one with the smallest
    total difference over the luminance table and, when present, the chrominance table. For
    files written by libjpeg (Pillow, OpenCV, most cameras' software) this recovers the exact
    quality; for other encoders it is the nearest IJG equivalent.
    """
    info = data if isinstance(data, JpegInfo) else parse_jpeg(data)
    if not info.quant_tables:
        return None
    ids = info.component_tables or sorted(info.quant_tables)
    luma = info.quant_tables.get(ids[0])
    chroma = info.quant_tables.get(ids[1]) if len(ids) > 1 and ids[1] != ids[0] else None
    if luma is None:
        return None
    max_value = 32767 if luma.max() > 255 else 255
    luma_tables, chroma_tables = _ijg_tables(max_value)
    err = np.abs(luma_tables - luma).sum(axis=1)
    if chroma is not None:
        err += np.abs(chroma_tables - chroma).sum(axis=1)
    return 100 - int(np.argmin(err[::-1]))     # ties: the higher quality


@functools.lru_cache(maxsize=2)
def _ijg_tables(max_value: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`ijg_table` of the standard tables for every quality 1–100 (rows), made once:
    the registrar estimates the quality of every photo of a class."""
    tables: list[NDArray[np.int64]] = []
    for base in (STD_LUMINANCE, STD_CHROMINANCE):
        t = np.stack([ijg_table(base, q, max_value=max_value) for q in range(1, 101)])
        t.flags.writeable = False
        tables.append(t)
    return tables[0], tables[1]


# --- writing -------------------------------------------------------------------------------------

def encode_jpeg(rgb: RGB, quality: int) -> bytes:
    """One baseline JFIF encode at 300 dpi with optimised Huffman tables and no metadata."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != standard.CHANNELS:
        raise ValueError(f"need an RGB uint8 picture, got {rgb.dtype} {rgb.shape}")
    buf = io.BytesIO()
    # optimize=True keeps the file baseline (SOF0) but spends fewer bytes on Huffman codes,
    # which buys a higher quality inside 40 KB.
    Image.fromarray(rgb, "RGB").save(
        buf, "JPEG", quality=int(quality), dpi=(standard.DPI, standard.DPI), optimize=True,
        progressive=False, subsampling=CHROMA_SUBSAMPLING)
    return buf.getvalue()


def encode_within(rgb: RGB, *, reserve: int = 0,
                  max_bytes: int = int(standard.FILE_SIZE.hi),
                  min_bytes: int = int(standard.FILE_SIZE.lo),
                  min_quality: int = standard.JPEG_MIN_QUALITY,
                  max_quality: int = MAX_QUALITY) -> Encoded:
    """Encode at the highest quality in [min_quality, max_quality] whose file fits ``max_bytes``.

    ``reserve`` is the size of what will still be added (the comment segment), so the finished
    file is what must fit. Binary search over the integer qualities: file size grows with
    quality (almost always strictly; a rare non-monotonic step can only make the search settle
    one step lower, never produce a file that does not fit). If even ``min_quality`` is too big
    the file keeps ``min_quality`` (the quality floor is a hard rule, the size band is not) and
    ``size_problem`` says so; likewise when even ``max_quality`` stays below ``min_bytes``.
    """
    budget = max_bytes - reserve
    cache: dict[int, bytes] = {}

    def encode(q: int) -> bytes:
        if q not in cache:
            cache[q] = encode_jpeg(rgb, q)
        return cache[q]

    problem = None
    if len(encode(min_quality)) > budget:
        best = min_quality
        size = len(cache[best]) + reserve
        problem = Message(
            f"照片在最低质量{min_quality}时仍有{size // 1024} KB，超过{max_bytes // 1024} KB",
            f"the photo is {size / 1024:.1f} KB even at quality {min_quality}, "
            f"above {max_bytes // 1024} KB")
    else:
        lo, hi = min_quality, max_quality        # invariant: encode(lo) fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(encode(mid)) <= budget:
                lo = mid
            else:
                hi = mid - 1
        best = lo
        size = len(cache[best]) + reserve
        if size < min_bytes:
            problem = Message(
                f"照片在质量{best}时只有{size / 1024:.1f} KB，低于{min_bytes // 1024} KB（不填充）",
                f"the photo is only {size / 1024:.1f} KB at quality {best}, below "
                f"{min_bytes // 1024} KB (files are never padded)")
    if problem:
        log.warning("size band not met: %s", problem.en)
    log.debug("size search: quality %d, %d bytes, %d encodes", best, size, len(cache))
    return Encoded(data=cache[best], quality=best, attempts=len(cache), final_size=size,
                   size_problem=problem)


def comment_segment(comment: bytes) -> bytes:
    """The bytes of a COM segment holding ``comment``."""
    if len(comment) > 0xFFFF - 2:
        raise ValueError("a JPEG comment holds at most 65533 bytes")
    return b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment


def insert_comment(data: bytes, comment: bytes) -> bytes:
    """Splice one COM segment holding ``comment`` right after the JFIF APP0 segment.

    Refuses a file that already has a comment (the standard wants exactly one) or that does not
    start with SOI + JFIF APP0.
    """
    info = parse_jpeg(data)
    if info.comments:
        raise ValueError("the file already has a comment segment")
    if not info.first_is_jfif:
        raise ValueError("the file does not start with a JFIF APP0 segment")
    at = info.segments[1].end
    return data[:at] + comment_segment(comment) + data[at:]


def digest_without_comments(data: bytes) -> bytes:
    """SHA-256 of the file from SOI to EOI with every COM segment left out.

    The identity sealed in the comment carries this digest, binding the comment to these exact
    pixels, tables and header: re-encoding, mirroring (even losslessly), cropping or changing
    the density all change it. Bytes after EOI are not included (they are reported on their own).
    """
    h = hashlib.sha256()
    for seg in read_segments(data):
        if seg.marker != COM:
            h.update(data[seg.start:seg.end])
    return h.digest()


def _marker_name(marker: int) -> str:
    names = {SOI: "SOI", EOI: "EOI", SOS: "SOS", DQT: "DQT", COM: "COM", 0xC4: "DHT",
             0xDD: "DRI", 0xC0: "SOF0", 0xC1: "SOF1", 0xC2: "SOF2"}
    if marker in names:
        return names[marker]
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    if 0xD0 <= marker <= 0xD7:
        return f"RST{marker - 0xD0}"
    return f"0x{marker:02X}"
