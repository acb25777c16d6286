"""What a scanned QR code says about the student, or a clear refusal.

Students bring a QR code made by the school's phone form (or printed on a student card). Forms
differ between schools, so four payload formats are understood; which ones a booth accepts is
configured (``config.export.qr_formats``):

``json``   ``{"student_id": "2020123456", "name": "张三", "id_number": "1101…"}``
           (keys in English or Chinese: ``学号``, ``姓名``, ``身份证号``, ``学院``, ``班级``)
``url``    ``https://form.example.edu.cn/photo?sid=2020123456&name=%E5%BC%A0%E4%B8%89``
``kv``     ``学号=2020123456;姓名=张三`` (separated by ``;``, ``&``, ``|``, ``,`` or new lines)
``bare``   ``2020123456``: only the student number; the roster supplies the rest

Anything else is refused with a :class:`QrPayloadError` whose ``message`` is bilingual: payloads
longer than the limit, control characters, and values that could be path separators, markup or
SQL. Values are checked against a whitelist per field (never "cleaned"): a name is letters,
combining marks, spaces and the middle dot; a student number is letters and digits. Every
accepted identity then goes through the same validation as a roster row::

    qr = parse_qr_payload(scanned_bytes)
    student = identify(qr, roster)        # the roster's record wins; a mismatch is refused
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from kiosk.message import Message
from kiosk.photo.student import (
    DEFAULT_STUDENT_ID_PATTERN,
    MAX_NAME_LENGTH,
    InvalidIdentity,
    Student,
    validate_id_number,
    validate_student_id,
)

FORMATS = ("json", "url", "kv", "bare")
MAX_PAYLOAD_BYTES = 512          # [product] a phone form's code holds well under 200 bytes

# Header names accepted as keys, normalised like the roster's (lower case, no separators).
_KEYS = {
    "student_id": ("studentid", "sid", "studentno", "studentnumber", "xh", "学号", "stuid"),
    "name": ("name", "studentname", "fullname", "xm", "姓名"),
    "id_number": ("idnumber", "idno", "idcard", "idcardnumber", "sfzh", "身份证号", "身份证号码",
                  "身份证", "证件号码"),
    "college": ("college", "school", "faculty", "department", "学院", "院系"),
    "class_name": ("class", "classname", "班级"),
}
_ALIASES = {k: f for f, keys in _KEYS.items() for k in keys}
_KV_SPLIT = re.compile(r"[;&|,\n]")
_NAME_EXTRA = set(" ·•.-")              # allowed in names besides letters and marks
_TEXT_EXTRA = set(" ·•.-()（）")        # allowed in college / class besides letters, digits


class QrPayloadError(ValueError):
    """A QR payload that was refused; ``message`` is for the screen, in Chinese and English."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


@dataclass(frozen=True)
class QrIdentity:
    """What the code said. Only ``student_id`` is certain to be there."""

    student_id: str
    name: str = ""
    id_number: str = ""
    college: str = ""
    class_name: str = ""
    format: str = "bare"

    @property
    def complete(self) -> bool:
        """True when the code alone identifies the student fully (no roster needed)."""
        return bool(self.student_id and self.name and self.id_number)


MSG_UNKNOWN = Message("无法识别这个二维码，请使用学校表单生成的二维码，或输入学号。",
                      "This QR code is not recognised. Please use the code from the school's "
                      "form, or type your student number.")
MSG_TOO_LONG = Message("二维码内容过长，已拒绝。请使用学校表单生成的二维码。",
                       "The QR code holds too much data and was refused. Please use the code "
                       "from the school's form.")
MSG_HOSTILE = Message("二维码包含不允许的字符，已拒绝。请使用学校表单生成的二维码。",
                      "The QR code contains characters that are not allowed and was refused. "
                      "Please use the code from the school's form.")
MSG_NO_ID = Message("二维码中没有学号。", "The QR code does not contain a student number.")
MSG_CONFLICT = Message("二维码中的信息自相矛盾，已拒绝。", "The QR code contradicts itself and was refused.")


def parse_qr_payload(data: bytes | str, *, formats: tuple[str, ...] | list[str] = FORMATS,
                     max_bytes: int = MAX_PAYLOAD_BYTES,
                     student_id_pattern: str = DEFAULT_STUDENT_ID_PATTERN) -> QrIdentity:
    """Parse a scanned payload; raises :class:`QrPayloadError` for anything not acceptable."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise QrPayloadError(MSG_TOO_LONG)
    text = _decode(raw).strip()
    if not text:
        raise QrPayloadError(MSG_UNKNOWN)
    if any(_is_control(ch) and ch not in "\n\r\t" for ch in text):
        raise QrPayloadError(MSG_HOSTILE)
    fmt, pairs = _split(text, formats)
    fields: dict[str, str] = {}
    for key, value in pairs:
        f = _ALIASES.get(_norm_key(key))
        if f is None:
            continue        # unknown keys are ignored (their characters were checked above)
        value = value.strip()
        if f in fields and fields[f] != value:
            raise QrPayloadError(MSG_CONFLICT)
        fields[f] = value
    return _validated(fields, fmt, student_id_pattern)


def identify(qr: QrIdentity, roster=None) -> Student:
    """The student a parsed code stands for.

    With a roster, the roster's record is used and every field the code also carries must agree
    with it; a student not on the roster is accepted only if the code is complete. Raises
    :class:`QrPayloadError`.
    """
    known = roster.find(qr.student_id) if roster is not None else None
    if known is not None:
        if (qr.id_number and qr.id_number != known.id_number) or \
                (qr.name and unicodedata.normalize("NFC", qr.name) != known.name):
            raise QrPayloadError(Message("二维码中的信息与名单不一致，请联系工作人员。",
                                         "The QR code does not match the roster; please ask a "
                                         "staff member."))
        return known
    if roster is not None and len(roster) and not qr.complete:
        raise QrPayloadError(Message(f"名单中没有学号 {qr.student_id}，请联系工作人员。",
                                     f"Student number {qr.student_id} is not on the roster; "
                                     "please ask a staff member."))
    if not qr.complete:
        raise QrPayloadError(Message("二维码中缺少姓名或身份证号。",
                                     "The QR code lacks the name or the ID-card number."))
    try:
        return Student.validated(student_id=qr.student_id, id_number=qr.id_number,
                                 name=qr.name, college=qr.college, class_name=qr.class_name)
    except InvalidIdentity as exc:
        raise QrPayloadError(exc.message) from None


# --- internals -------------------------------------------------------------------------------
def _decode(raw: bytes) -> str:
    # Phone forms produce UTF-8; some older card printers write GBK.
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise QrPayloadError(MSG_UNKNOWN)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-]", "", key).lower()


def _split(text: str, formats) -> tuple[str, list[tuple[str, str]]]:
    """Which format the text is in, and its (key, value) pairs."""
    enabled = set(formats)
    if text.startswith("{") and "json" in enabled:
        return "json", _json_pairs(text)
    if re.match(r"(?i)https?://", text) and "url" in enabled:
        try:
            parts = urlsplit(text)
            pairs = parse_qsl(parts.query, keep_blank_values=True) + \
                parse_qsl(parts.fragment, keep_blank_values=True)
        except ValueError:          # e.g. "http://[::1/?sid=…": an unclosed IPv6 bracket
            raise QrPayloadError(MSG_UNKNOWN) from None
        if not pairs:
            raise QrPayloadError(MSG_UNKNOWN)
        return "url", pairs
    if "=" in text and "kv" in enabled and not text.startswith("{"):
        pairs = []
        for part in _KV_SPLIT.split(text):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise QrPayloadError(MSG_UNKNOWN)
            pairs.append((key, value))
        return "kv", pairs
    if "bare" in enabled and re.fullmatch(r"[A-Za-z0-9]{1,40}", text):
        return "bare", [("student_id", text)]
    raise QrPayloadError(MSG_UNKNOWN)


def _json_pairs(text: str) -> list[tuple[str, str]]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise QrPayloadError(MSG_UNKNOWN) from None
    if not isinstance(doc, dict):
        raise QrPayloadError(MSG_UNKNOWN)
    pairs = []
    for key, value in doc.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            if _ALIASES.get(_norm_key(key)) is not None:
                raise QrPayloadError(MSG_HOSTILE)     # nested or odd value for a known field
            continue
        pairs.append((key, str(value)))
    return pairs


def _validated(fields: dict[str, str], fmt: str, pattern: str) -> QrIdentity:
    if not fields.get("student_id"):
        raise QrPayloadError(MSG_NO_ID)
    for f, value in fields.items():
        if any(_is_control(ch) for ch in value) or ".." in value:
            raise QrPayloadError(MSG_HOSTILE)
        if f == "name" and not _only(value, _NAME_EXTRA, digits=False):
            raise QrPayloadError(MSG_HOSTILE)
        if f in ("college", "class_name") and not _only(value, _TEXT_EXTRA, digits=True):
            raise QrPayloadError(MSG_HOSTILE)
        if f in ("student_id", "id_number") and not re.fullmatch(r"[A-Za-z0-9]*", value):
            raise QrPayloadError(MSG_HOSTILE)
    try:
        student_id = validate_student_id(fields["student_id"], pattern)
        id_number = validate_id_number(fields["id_number"]) if fields.get("id_number") else ""
    except InvalidIdentity as exc:
        raise QrPayloadError(exc.message) from None
    name = unicodedata.normalize("NFC", fields.get("name", ""))
    if max(len(name), len(fields.get("college", "")),
           len(fields.get("class_name", ""))) > MAX_NAME_LENGTH:
        raise QrPayloadError(MSG_TOO_LONG)
    return QrIdentity(student_id=student_id, name=name, id_number=id_number,
                      college=fields.get("college", ""), class_name=fields.get("class_name", ""),
                      format=fmt)


def _only(value: str, extra: set[str], *, digits: bool) -> bool:
    for ch in value:
        cat = unicodedata.category(ch)
        if cat[0] in ("L", "M") or ch in extra or (digits and cat == "Nd"):
            continue
        return False
    return True
