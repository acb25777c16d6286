"""Identity in the comment segment: AES-256-GCM default scheme, registry, key files."""

from __future__ import annotations

import base64
import datetime as dt
import os
import stat
import sys
import textwrap

import pytest

import kiosk.photo.identity as identity
from kiosk.photo.identity import (
    IdentityError,
    IdentityScheme,
    KeyFileError,
    SealedIdentity,
    available_schemes,
    generate_key,
    load_key,
    load_scheme,
    scheme_for_comment,
)
from kiosk.photo.identity.aesgcm import AesGcmScheme
from kiosk.photo.student import Student

STUDENT = Student("2020123456", "11010519491231002X", "张三", "信息学院", "2020级1班")
WHEN = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


def test_seal_and_open_round_trip(key):
    scheme = load_scheme("aesgcm-v1")
    digest = bytes(range(32))
    comment = scheme.seal(STUDENT, key, image_digest=digest, captured_at=WHEN)
    opened = scheme.open(comment, key)
    assert opened.student == STUDENT
    assert (opened.student_id, opened.id_number, opened.name) == (
        "2020123456", "11010519491231002X", "张三")
    assert opened.school_code == "10727"
    assert opened.captured_at == WHEN
    assert opened.image_digest == digest
    assert opened.scheme == "aesgcm-v1"
    assert opened.matches(STUDENT)
    assert not opened.matches(Student("2020123457", STUDENT.id_number, "张三"))


def test_comment_is_printable_ascii_without_the_plain_numbers(key):
    comment = AesGcmScheme().seal(STUDENT, key, captured_at=WHEN)
    assert comment.startswith(b"kiosk-id:aesgcm-v1:")
    assert all(0x20 < b < 0x7F for b in comment)
    assert b"2020123456" not in comment and b"11010519491231002X" not in comment
    assert len(comment) < 1024


def test_every_seal_uses_a_fresh_nonce(key):
    scheme = AesGcmScheme()
    assert scheme.seal(STUDENT, key, captured_at=WHEN) != scheme.seal(STUDENT, key, captured_at=WHEN)


def test_wrong_key_is_a_clear_error(key):
    comment = AesGcmScheme().seal(STUDENT, key)
    with pytest.raises(IdentityError) as err:
        AesGcmScheme().open(comment, os.urandom(32))
    assert "wrong key" in err.value.message.en and "密钥" in err.value.message.zh


def test_any_changed_byte_is_detected(key):
    comment = AesGcmScheme().seal(STUDENT, key)
    prefix = len(AesGcmScheme.prefix)
    blob = bytearray(base64.b64decode(comment[prefix:]))
    for i in (0, 5, 12, len(blob) // 2, len(blob) - 1):   # nonce, ciphertext, tag
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(IdentityError):
            AesGcmScheme().open(comment[:prefix] + base64.b64encode(bytes(tampered)), key)


@pytest.mark.parametrize("comment", [b"", b"hello", b"kiosk-id:aesgcm-v1:", b"kiosk-id:aesgcm-v1:!!!",
                                     b"kiosk-id:aesgcm-v1:" + base64.b64encode(b"short")])
def test_malformed_comments_are_errors_not_crashes(key, comment):
    with pytest.raises(IdentityError):
        AesGcmScheme().open(comment, key)


def test_scheme_name_in_the_prefix_is_authenticated(key):
    class Other(AesGcmScheme):
        prefix = b"kiosk-id:aesgcm-v2:"
    comment = AesGcmScheme().seal(STUDENT, key)
    relabelled = Other.prefix + comment[len(AesGcmScheme.prefix):]
    with pytest.raises(IdentityError):
        Other().open(relabelled, key)


def test_bad_key_length(key):
    with pytest.raises(IdentityError):
        AesGcmScheme().seal(STUDENT, key[:16])


def test_registry_finds_the_default_by_entry_point_and_fallback():
    assert available_schemes()["aesgcm-v1"] == "kiosk.photo.identity.aesgcm:AesGcmScheme"
    assert isinstance(load_scheme("aesgcm-v1"), AesGcmScheme)
    with pytest.raises(IdentityError) as err:
        load_scheme("rot13")
    assert "aesgcm-v1" in err.value.message.en


def test_a_new_scheme_is_one_module(tmp_path, monkeypatch, key):
    """What adding the official algorithm looks like: one module, one registry line."""
    (tmp_path / "official_scheme.py").write_text(textwrap.dedent('''
        import json
        from kiosk.photo.identity.base import IdentityError, IdentityScheme, SealedIdentity
        from kiosk.message import Message
        from kiosk.photo.student import Student

        class OfficialScheme(IdentityScheme):
            scheme_id = "official-v1"
            def seal(self, student, key, *, image_digest=None, captured_at=None):
                body = json.dumps([student.student_id, student.id_number, student.name])
                return b"OFFICIAL" + bytes(b ^ key[0] for b in body.encode())
            def open(self, comment, key):
                if not self.recognises(comment):
                    raise IdentityError(Message("x", "not official"))
                sid, idn, name = json.loads(bytes(b ^ key[0] for b in comment[8:]))
                return SealedIdentity("official-v1", Student(sid, idn, name), "10727", None, None)
            def recognises(self, comment):
                return comment.startswith(b"OFFICIAL")
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(identity.BUILTIN_SCHEMES, "official-v1", "official_scheme:OfficialScheme")
    scheme = load_scheme("official-v1")
    comment = scheme.seal(STUDENT, key)
    assert scheme_for_comment(comment).scheme_id == "official-v1"
    assert scheme_for_comment(AesGcmScheme().seal(STUDENT, key)).scheme_id == "aesgcm-v1"
    assert scheme.open(comment, key).id_number == STUDENT.id_number
    sys.modules.pop("official_scheme", None)


def test_a_package_declaring_the_entry_point_provides_a_scheme(tmp_path, monkeypatch, key):
    """A third-party package (its own dist-info with an entry point, nothing in BUILTIN_SCHEMES)
    is found through importlib.metadata, and files it seals verify with kiosk.photo.verify."""
    from importlib.metadata import entry_points
    assert "aesgcm-v1" in {ep.name for ep in entry_points(group=identity.GROUP)}, \
        "the project's own entry point is not installed (pip install -e .)"
    (tmp_path / "third_party_scheme.py").write_text(textwrap.dedent('''
        from kiosk.photo.identity.aesgcm import AesGcmScheme

        class ThirdPartyScheme(AesGcmScheme):
            scheme_id = "third-party-v1"
            prefix = b"third-party:v1:"
    '''))
    dist = tmp_path / "third_party_scheme-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: third-party-scheme\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{identity.GROUP}]\nthird-party-v1 = third_party_scheme:ThirdPartyScheme\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "third-party-v1" not in identity.BUILTIN_SCHEMES
    assert available_schemes()["third-party-v1"] == "third_party_scheme:ThirdPartyScheme"
    comment = load_scheme("third-party-v1").seal(STUDENT, key, captured_at=WHEN)
    assert comment.startswith(b"third-party:v1:")
    opened = scheme_for_comment(comment).open(comment, key)
    assert opened.scheme == "third-party-v1" and opened.student == STUDENT
    sys.modules.pop("third_party_scheme", None)


def test_registered_object_must_be_a_scheme(monkeypatch):
    monkeypatch.setitem(identity.BUILTIN_SCHEMES, "bogus", "kiosk.photo.student:Student")
    monkeypatch.setitem(identity.BUILTIN_SCHEMES, "missing", "kiosk.nowhere:Nothing")
    with pytest.raises(IdentityError):
        load_scheme("bogus")
    with pytest.raises(IdentityError):
        load_scheme("missing")


def test_generate_key_is_private_and_never_overwrites(tmp_path):
    path = tmp_path / "registrar.key"
    generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_key(path)
    assert len(key) == 32
    text = path.read_text()
    assert len(text.strip()) == 64 and bytes.fromhex(text.strip()) == key
    with pytest.raises(KeyFileError) as err:
        generate_key(path)
    assert "not overwritten" in err.value.message.en
    assert load_key(path) == key
    other = tmp_path / "second.key"
    generate_key(other)
    assert load_key(other) != key


def test_load_key_accepts_raw_bytes(tmp_path):
    raw = os.urandom(32)
    path = tmp_path / "raw.key"
    path.write_bytes(raw)
    assert load_key(path) == raw


@pytest.mark.parametrize("content", [b"", b"abcd", b"zz" * 32, os.urandom(31), os.urandom(33)])
def test_load_key_refuses_what_is_not_a_key(tmp_path, content):
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as err:
        load_key(path)
    assert "not a key file" in err.value.message.en


def test_load_key_missing_file(tmp_path):
    with pytest.raises(KeyFileError) as err:
        load_key(tmp_path / "nope.key")
    assert "not found" in err.value.message.en and "找不到" in err.value.message.zh


def test_load_key_warns_about_open_permissions(tmp_path, caplog):
    path = tmp_path / "open.key"
    generate_key(path)
    path.chmod(0o644)
    load_key(path)
    assert "other users" in caplog.text


def test_sealed_identity_is_student_like():
    sealed = SealedIdentity("x", STUDENT, "10727", None, None)
    assert sealed.name == "张三" and sealed.student_id == "2020123456"
    assert issubclass(AesGcmScheme, IdentityScheme)
