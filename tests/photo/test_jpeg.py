"""The JPEG writer and reader: baseline JFIF at 300 dpi, one COM, size search, quality estimate."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from kiosk.photo import standard
from kiosk.photo.jpeg import (
    COM,
    MAX_QUALITY,
    JpegError,
    digest_without_comments,
    encode_jpeg,
    encode_within,
    estimate_quality,
    insert_comment,
    parse_jpeg,
    read_segments,
)


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    """A real photograph (the astronaut) at the file's 480×640 size."""
    rgb = skdata.astronaut()[:, 64:448]                  # 512×384, 3:4 like the file
    return np.asarray(Image.fromarray(rgb).resize((480, 640), Image.LANCZOS))


def pil_bytes(rgb, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", **kw)
    return buf.getvalue()


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:4:4"])
def test_quality_estimate_recovers_pillow_qualities(portrait, subsampling):
    for q in range(60, 96):
        assert estimate_quality(pil_bytes(portrait, quality=q, subsampling=subsampling)) == q


def test_quality_estimate_on_opencv_files(portrait):
    for q in (55, 60, 75, 90):
        ok, enc = cv2.imencode(".jpg", portrait[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        assert ok
        assert abs(estimate_quality(enc.tobytes()) - q) <= 1


def test_quality_estimate_on_a_low_quality_file(portrait):
    assert estimate_quality(pil_bytes(portrait, quality=30)) == 30


def test_encode_is_baseline_jfif_300dpi_without_metadata(portrait):
    info = parse_jpeg(encode_jpeg(portrait, 80))
    assert info.baseline and not info.progressive
    assert (info.width, info.height, info.components, info.precision) == (480, 640, 3, 8)
    assert info.first_is_jfif
    assert (info.jfif.units, info.jfif.x_density, info.jfif.y_density) == (1, 300, 300)
    assert info.app_segments == [(0xE0, b"JFIF")]        # no EXIF, ICC, XMP, Adobe
    assert info.comments == [] and info.trailing == b""


def test_size_search_finds_the_highest_quality_that_fits(portrait):
    reserve = 400
    enc = encode_within(portrait, reserve=reserve)
    budget = int(standard.FILE_SIZE.hi) - reserve
    assert standard.JPEG_MIN_QUALITY <= enc.quality < MAX_QUALITY
    assert len(enc.data) <= budget
    assert enc.final_size == len(enc.data) + reserve
    assert len(encode_jpeg(portrait, enc.quality + 1)) > budget    # one step higher would not fit
    assert enc.attempts <= 7            # binary search over 60..95: 1 + ceil(log2(36))
    assert enc.size_problem is None
    assert estimate_quality(enc.data) == enc.quality


def test_a_flat_picture_below_the_band_is_reported_not_padded():
    flat = np.full((640, 480, 3), (100, 197, 255), np.uint8)
    enc = encode_within(flat)
    assert enc.quality == MAX_QUALITY
    assert enc.final_size < standard.FILE_SIZE.lo
    assert enc.data == encode_jpeg(flat, MAX_QUALITY)               # nothing padded
    assert enc.size_problem is not None and "never padded" in enc.size_problem.en


def test_a_picture_too_big_at_quality_60_keeps_60_and_says_so():
    noise = np.random.default_rng(0).integers(0, 256, (640, 480, 3), dtype=np.uint8)
    enc = encode_within(noise)
    assert enc.quality == standard.JPEG_MIN_QUALITY
    assert enc.attempts == 1
    assert enc.final_size > standard.FILE_SIZE.hi
    assert enc.size_problem is not None and "quality 60" in enc.size_problem.en


def test_comment_goes_where_pillow_puts_it(portrait):
    plain = encode_jpeg(portrait, 75)
    spliced = insert_comment(plain, b"hello COM")
    by_pillow = pil_bytes(portrait, quality=75, dpi=(300, 300), optimize=True,
                          subsampling="4:2:0", comment=b"hello COM")
    assert spliced == by_pillow
    segs = read_segments(spliced)
    assert [s.name for s in segs[:3]] == ["SOI", "APP0", "COM"]
    assert sum(s.marker == COM for s in segs) == 1
    assert parse_jpeg(spliced).comments == [b"hello COM"]
    with pytest.raises(ValueError):
        insert_comment(spliced, b"second")
    with pytest.raises(ValueError):
        insert_comment(plain, b"x" * 65534)


def test_digest_ignores_the_comment_but_nothing_else(portrait):
    plain = encode_jpeg(portrait, 75)
    d = digest_without_comments(plain)
    assert digest_without_comments(insert_comment(plain, b"abc")) == d
    assert digest_without_comments(encode_jpeg(portrait, 76)) != d
    assert digest_without_comments(encode_jpeg(portrait[:, ::-1].copy(), 75)) != d
    changed_density = plain.replace(b"JFIF\x00\x01\x01\x01\x01\x2c\x01\x2c",
                                    b"JFIF\x00\x01\x01\x01\x00\x48\x00\x48", 1)
    assert changed_density != plain
    assert digest_without_comments(changed_density) != d


def test_reader_flags_progressive_grayscale_cmyk_and_metadata(portrait):
    prog = parse_jpeg(pil_bytes(portrait, quality=80, progressive=True))
    assert prog.progressive and not prog.baseline and prog.sof_marker == 0xC2
    gray = parse_jpeg(pil_bytes(portrait[:, :, 0], quality=80))
    assert gray.components == 1
    cmyk = io.BytesIO()
    Image.fromarray(portrait).convert("CMYK").save(cmyk, "JPEG", quality=80)
    assert parse_jpeg(cmyk.getvalue()).components == 4
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    with_exif = parse_jpeg(pil_bytes(portrait, quality=80, exif=exif.tobytes()))
    assert (0xE1, b"Exif") in with_exif.app_segments


def test_reader_follows_restart_markers_and_reports_trailing_bytes(portrait):
    ok, enc = cv2.imencode(".jpg", portrait[:, :, ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, 80, cv2.IMWRITE_JPEG_RST_INTERVAL, 4])
    assert ok
    data = enc.tobytes()
    segs = read_segments(data)
    assert segs[-1].name == "EOI" and segs[-1].end == len(data)
    assert b"\xff\xd0" in data[segs[-2].start:]                  # restarts inside the scan
    info = parse_jpeg(data + b"\x00" * 100 + b"extra")
    assert len(info.trailing) == 105


@pytest.mark.parametrize("bad", [b"", b"GIF89a", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00",
                                 b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"])
def test_reader_refuses_broken_files(bad):
    with pytest.raises(JpegError):
        parse_jpeg(bad)


def test_reader_refuses_a_truncated_file(portrait):
    data = encode_jpeg(portrait, 80)
    with pytest.raises(JpegError):
        parse_jpeg(data[: len(data) // 2])


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_reader_raises_only_jpeg_error_on_any_bytes(blob):
    for data in (blob, b"\xff\xd8" + blob, b"\xff\xd8\xff\xe0" + blob):
        try:
            info = parse_jpeg(data)
        except JpegError:
            continue
        assert info.segments[0].name == "SOI" and info.segments[-1].name == "EOI"
        estimate_quality(info)
