"""Verifying finished files rule by rule, and files edited after they were made."""

from __future__ import annotations

import datetime as dt
import io
import os

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from kiosk.photo.checks.result import Status
from kiosk.photo.engine import encode_and_seal
from kiosk.photo.jpeg import COM, comment_segment, insert_comment, parse_jpeg, read_segments
from kiosk.photo.student import Student
from kiosk.photo.verify import verify_bytes, verify_file

STUDENT = Student("2020123456", "11010519491231002X", "张三")
OTHER = Student("2020999999", "110101199003074477", "李四")
FILE_RULES = ["file.format", "file.dimensions", "file.dpi", "file.color", "file.quality",
              "file.size", "file.clean", "file.id_embedded", "file.untransformed", "file.recent"]


@pytest.fixture(scope="module")
def key() -> bytes:
    return os.urandom(32)


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    rgb = skdata.astronaut()[:, 64:448]
    return np.asarray(Image.fromarray(rgb).resize((480, 640), Image.LANCZOS))


@pytest.fixture(scope="module")
def sealed(picture, key) -> bytes:
    jpeg, _ = encode_and_seal(picture, STUDENT, key=key)
    return jpeg


def statuses(report) -> dict[str, str]:
    return {c.id: c.status.value for c in report.checks}


def resave(data: bytes, **kw) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        buf = io.BytesIO()
        im.save(buf, "JPEG", **kw)
        return buf.getvalue()


def test_a_fresh_file_passes_every_file_rule(sealed, key):
    report = verify_bytes(sealed, key=key, expected=STUDENT, path="11010519491231002X.jpg")
    assert [c.id for c in report.checks] == FILE_RULES
    assert set(statuses(report).values()) == {"pass"}, statuses(report)
    assert report.verdict == Status.PASS and report.ok
    assert report.identity.student == STUDENT
    assert report.quality >= 60
    assert report.to_dict()["verdict"] == "pass"


def test_verify_file_reads_from_disk(sealed, key, tmp_path):
    path = tmp_path / "11010519491231002X.JPG"
    path.write_bytes(sealed)
    report = verify_file(path, key=key, expected=STUDENT)
    assert report.verdict == Status.PASS and report.path == str(path)
    with pytest.raises(OSError):
        verify_file(tmp_path / "missing.jpg", key=key)


def test_wrong_extension_fails_format(sealed, key):
    assert statuses(verify_bytes(sealed, key=key, path="x.jpeg"))["file.format"] == "fail"
    assert statuses(verify_bytes(sealed, key=key, path="x.png"))["file.format"] == "fail"


def test_without_the_key_identity_is_a_warning(sealed):
    report = verify_bytes(sealed, key=None)
    s = statuses(report)
    assert s["file.id_embedded"] == "warn" and s["file.untransformed"] == "warn"
    assert report.verdict == Status.WARN and report.identity is None


def test_a_comment_no_scheme_wrote_fails_with_or_without_the_key(sealed, key):
    """Another program's comment in place of the sealed identity: no key can open it, so a
    student checking the file without the key must not be told it may pass."""
    info = parse_jpeg(sealed)
    com = next(seg for seg in info.segments if seg.marker == COM)
    foreign = sealed[:com.start] + comment_segment(b"CREATOR: gd-jpeg v1.0") + sealed[com.end:]
    for k in (None, key):
        report = verify_bytes(foreign, key=k, expected=STUDENT)
        s = statuses(report)
        assert s["file.id_embedded"] == "fail", k
        assert s["file.untransformed"] != "pass" and report.verdict == Status.FAIL
    assert "no known identity format" in verify_bytes(foreign, key=None).check(
        "file.id_embedded").message.en


def test_wrong_key_fails(sealed):
    report = verify_bytes(sealed, key=os.urandom(32))
    assert statuses(report)["file.id_embedded"] == "fail"
    assert report.verdict == Status.FAIL


def test_file_of_another_student_fails(sealed, key):
    report = verify_bytes(sealed, key=key, expected=OTHER)
    assert statuses(report)["file.id_embedded"] == "fail"
    assert "another student" in report.check("file.id_embedded").message.en


# --- files edited after they were made ----------------------------------------------------------

def test_resaved_at_another_quality_fails_even_with_the_comment_kept(sealed, key):
    comment = parse_jpeg(sealed).comments[0]
    edited = resave(sealed, quality=60, dpi=(300, 300), comment=comment)
    assert parse_jpeg(edited).comments == [comment]
    report = verify_bytes(edited, key=key, expected=STUDENT)
    assert statuses(report)["file.untransformed"] == "fail"
    assert statuses(report)["file.id_embedded"] == "pass"     # the comment itself is genuine
    assert report.verdict == Status.FAIL


def test_plain_resave_carries_the_comment_along_but_fails(sealed, key):
    edited = resave(sealed, quality=90, dpi=(300, 300))     # Pillow copies the comment over
    report = verify_bytes(edited, key=key, expected=STUDENT)
    assert statuses(report)["file.untransformed"] == "fail"
    assert report.verdict == Status.FAIL


def test_resaved_without_the_comment_fails(sealed, key):
    with Image.open(io.BytesIO(sealed)) as im:
        im.info.pop("comment", None)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90, dpi=(300, 300))
    edited = buf.getvalue()
    assert parse_jpeg(edited).comments == []
    report = verify_bytes(edited, key=key, expected=STUDENT)
    assert statuses(report)["file.id_embedded"] == "fail"
    assert report.verdict == Status.FAIL


def test_comment_removed_byte_exactly_fails(sealed, key):
    com = next(s for s in read_segments(sealed) if s.marker == COM)
    edited = sealed[:com.start] + sealed[com.end:]
    assert parse_jpeg(edited).comments == []
    for k in (key, None):
        report = verify_bytes(edited, key=k, expected=STUDENT)
        assert statuses(report)["file.id_embedded"] == "fail"
        assert report.verdict == Status.FAIL


def test_mirrored_fails(sealed, key):
    comment = parse_jpeg(sealed).comments[0]
    with Image.open(io.BytesIO(sealed)) as im:
        mirrored = im.transpose(Image.FLIP_LEFT_RIGHT)
        buf = io.BytesIO()
        mirrored.save(buf, "JPEG", quality=75, dpi=(300, 300), comment=comment)
    report = verify_bytes(buf.getvalue(), key=key, expected=STUDENT)
    assert statuses(report)["file.untransformed"] == "fail"
    assert report.verdict == Status.FAIL


def test_comment_moved_to_another_photo_fails(picture, sealed, key):
    """A genuine comment copied into a different picture of the same size does not vouch for it."""
    other = np.ascontiguousarray(picture[::-1])
    donor, _ = encode_and_seal(other, STUDENT, key=key)
    com_donor = next(s for s in read_segments(donor) if s.marker == COM)
    com_mine = next(s for s in read_segments(sealed) if s.marker == COM)
    swapped = donor[:com_donor.start] + sealed[com_mine.start:com_mine.end] + donor[com_donor.end:]
    report = verify_bytes(swapped, key=key, expected=STUDENT)
    assert statuses(report)["file.id_embedded"] == "pass"
    assert statuses(report)["file.untransformed"] == "fail"


def test_bytes_after_the_end_marker_fail_clean(sealed, key):
    report = verify_bytes(sealed + b"\0" * 2048, key=key, expected=STUDENT)
    s = statuses(report)
    assert s["file.clean"] == "fail" and s["file.untransformed"] == "pass"
    assert report.verdict == Status.FAIL


def test_a_second_comment_fails(sealed, key):
    at = read_segments(sealed)[-2].start          # before SOS
    doubled = sealed[:at] + comment_segment(b"extra") + sealed[at:]
    assert statuses(verify_bytes(doubled, key=key))["file.id_embedded"] == "fail"


# --- each container rule on its own --------------------------------------------------------------

def _sealed_from(picture, key, **save) -> bytes:
    """A file sealed like the booth's, but encoded with other Pillow options."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, "JPEG", **save)
    from kiosk.photo.identity import load_scheme
    from kiosk.photo.jpeg import digest_without_comments
    plain = buf.getvalue()
    comment = load_scheme("aesgcm-v1").seal(STUDENT, key, image_digest=digest_without_comments(plain))
    return insert_comment(plain, comment)


def test_progressive_fails_format(picture, key):
    data = _sealed_from(picture, key, quality=75, dpi=(300, 300), progressive=True)
    s = statuses(verify_bytes(data, key=key, expected=STUDENT))
    assert s["file.format"] == "fail" and s["file.untransformed"] == "pass"


def test_wrong_dpi_fails(picture, key):
    assert statuses(verify_bytes(_sealed_from(picture, key, quality=75, dpi=(72, 72)),
                                 key=key))["file.dpi"] == "fail"
    assert statuses(verify_bytes(_sealed_from(picture, key, quality=75), key=key))["file.dpi"] == "fail"


def test_wrong_size_fails(picture, key):
    small = np.asarray(Image.fromarray(picture).resize((240, 320)))
    s = statuses(verify_bytes(_sealed_from(small, key, quality=75, dpi=(300, 300)), key=key))
    assert s["file.dimensions"] == "fail" and s["file.size"] == "warn"


def test_grayscale_fails_colour(picture, key):
    buf = io.BytesIO()
    Image.fromarray(picture).convert("L").save(buf, "JPEG", quality=80, dpi=(300, 300))
    assert statuses(verify_bytes(buf.getvalue(), key=key))["file.color"] == "fail"


def test_cmyk_fails_colour(picture, key):
    buf = io.BytesIO()
    Image.fromarray(picture).convert("CMYK").save(buf, "JPEG", quality=80, dpi=(300, 300))
    assert statuses(verify_bytes(buf.getvalue(), key=key))["file.color"] == "fail"


def test_low_quality_fails(picture, key):
    report = verify_bytes(_sealed_from(picture, key, quality=45, dpi=(300, 300)), key=key)
    assert statuses(report)["file.quality"] == "fail"
    assert report.check("file.quality").value == 45


def test_exif_fails_clean(picture, key):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    data = _sealed_from(picture, key, quality=75, dpi=(300, 300), exif=exif.tobytes())
    assert statuses(verify_bytes(data, key=key))["file.clean"] == "fail"


def test_oversized_file_is_a_warning_not_a_fail(picture, key):
    data = _sealed_from(picture, key, quality=92, dpi=(300, 300))
    assert len(data) > 40 * 1024
    report = verify_bytes(data, key=key, expected=STUDENT)
    assert statuses(report)["file.size"] == "warn"
    assert report.verdict == Status.WARN


@pytest.mark.parametrize("data", [b"", b"not a jpeg at all", b"\xff\xd8\xff\xe0\x00\x10JFIF"])
def test_garbage_is_a_format_failure_not_a_crash(data, key):
    report = verify_bytes(data, key=key)
    assert statuses(report) == {"file.format": "fail"}
    assert report.verdict == Status.FAIL
    message = report.check("file.format").message
    detail = message.en.split(": ", 1)[1]               # the reader's English detail...
    assert detail and detail not in message.zh          # ...stays out of the Chinese line


def test_old_capture_is_a_warning(picture, key):
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    jpeg, _ = encode_and_seal(picture, STUDENT, key=key, captured_at=old)
    report = verify_bytes(jpeg, key=key, expected=STUDENT)
    assert statuses(report)["file.recent"] == "warn"


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_byte_fails_and_never_crashes(sealed, key, data):
    """Flip, drop or truncate anywhere in a sealed file: verify reports FAIL, never raises."""
    kind = data.draw(st.sampled_from(["flip", "drop", "truncate"]))
    at = data.draw(st.integers(0, len(sealed) - 1))
    if kind == "flip":
        edited = sealed[:at] + bytes([sealed[at] ^ data.draw(st.integers(1, 255))]) + sealed[at + 1:]
    elif kind == "drop":
        edited = sealed[:at] + sealed[at + 1:]
    else:
        edited = sealed[:at]
    report = verify_bytes(edited, key=key, expected=STUDENT)
    assert report.verdict == Status.FAIL
