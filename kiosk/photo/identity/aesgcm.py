"""The default identity scheme: AES-256-GCM under the registrar's key.

The comment segment holds printable ASCII::

    kiosk-id:aesgcm-v1:<base64 of nonce (12 bytes) | ciphertext | tag (16 bytes)>

The plaintext is compact JSON binding the student number (``sid``), the ID-card number
(``idn``), the name, the school code, the capture time (UTC) and the SHA-256 of the finished
file without its comment (``img``, hex). The ASCII prefix is the associated data, so the scheme
name cannot be swapped either. A fresh random nonce per photo means two photos of the same
student never carry the same comment.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.identity.base import IdentityError, IdentityScheme, SealedIdentity
from kiosk.photo.identity.keys import KEY_BYTES
from kiosk.photo.student import Student

NONCE_BYTES = 12
TAG_BYTES = 16
PAYLOAD_VERSION = 1


class AesGcmScheme(IdentityScheme):
    """AES-256-GCM with a random 96-bit nonce; see the module docstring for the format."""

    scheme_id = "aesgcm-v1"
    prefix = b"kiosk-id:aesgcm-v1:"

    def seal(self, student: Student, key: bytes, *, image_digest: bytes | None = None,
             captured_at: dt.datetime | None = None) -> bytes:
        _check_key(key)
        when = captured_at or dt.datetime.now(dt.timezone.utc)
        if when.tzinfo is None:
            raise ValueError("captured_at must be timezone-aware")
        payload = {
            "v": PAYLOAD_VERSION,
            "sid": student.student_id,
            "idn": student.id_number,
            "name": student.name,
            "college": student.college,
            "class": student.class_name,
            "school": standard.SCHOOL_CODE,
            "t": when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "img": image_digest.hex() if image_digest is not None else None,
        }
        plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext, self.prefix)
        return self.prefix + base64.b64encode(nonce + sealed)

    def open(self, comment: bytes, key: bytes) -> SealedIdentity:
        _check_key(key)
        if not self.recognises(comment):
            raise IdentityError(Message("注释段不是本方案（aesgcm-v1）的格式",
                                        "the comment is not in the aesgcm-v1 format"))
        try:
            blob = base64.b64decode(comment[len(self.prefix):], validate=True)
        except (binascii.Error, ValueError):
            raise IdentityError(Message("注释段已损坏（不是有效的base64）",
                                        "the comment is damaged (not valid base64)")) from None
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise IdentityError(Message("注释段太短，已损坏", "the comment is too short: damaged"))
        try:
            plaintext = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self.prefix)
        except InvalidTag:
            raise IdentityError(Message("身份信息无法解密：密钥不对，或注释段被改动过",
                                        "the identity cannot be decrypted: wrong key, or the "
                                        "comment was altered")) from None
        try:
            p = json.loads(plaintext.decode("utf-8"))
            student = Student(student_id=p["sid"], id_number=p["idn"], name=p["name"],
                              college=p.get("college", ""), class_name=p.get("class", ""))
            when = dt.datetime.strptime(p["t"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.timezone.utc) if p.get("t") else None
            digest = bytes.fromhex(p["img"]) if p.get("img") else None
            school = str(p.get("school", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            # authenticated yet unreadable: written by a different payload version
            raise IdentityError(Message("身份信息的内容格式无法识别",
                                        "the identity's content is in an unknown format")) from None
        return SealedIdentity(scheme=self.scheme_id, student=student, school_code=school,
                              captured_at=when, image_digest=digest)

    def recognises(self, comment: bytes) -> bool:
        return comment.startswith(self.prefix)


def _check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
        raise IdentityError(Message("密钥长度不对（需要32字节）", "the key must be 32 bytes"))
