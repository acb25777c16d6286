"""Who the photo belongs to: the student's identity, validated, and the file name made from it.

Three numbers travel with every photo to the registrar's office: the ID-card number (身份证号),
the student number (学号) and the name (姓名). Everything typed, scanned or read from a roster is
validated here before it reaches a file name, a JPEG comment or a manifest::

    >>> from kiosk.photo.student import Student
    >>> s = Student.validated(student_id="2020123456", id_number="11010519491231002x", name="张三")
    >>> s.id_number                      # normalised: the check character is upper case
    '11010519491231002X'
    >>> mask_id_number(s.id_number)      # what logs and screens show
    '1101**********002X'
    >>> render_filename("{id_number}.jpg", s)
    '11010519491231002X.jpg'

ID-card numbers follow GB 11643-1999: 6 region digits, an 8-digit birth date, 3 sequence digits
and a check character computed with ISO 7064 MOD 11-2 (``X`` stands for 10). A bad number raises
:class:`InvalidIdentity`, whose ``message`` is a bilingual :class:`~kiosk.message.Message`
ready for the screen.

File names are made only from validated fields and are refused (never silently "fixed") when
they could leave the output folder or would not survive a FAT/exFAT USB stick.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import string
import unicodedata
from dataclasses import dataclass

from kiosk.message import Message
from kiosk.photo import standard

log = logging.getLogger(__name__)

#: Default pattern for student numbers (学号): 4–20 ASCII letters or digits. Schools differ, so
#: callers may pass their own pattern (the roster and the booth take it from config).
DEFAULT_STUDENT_ID_PATTERN = r"[A-Za-z0-9]{4,20}"
#: Longest name accepted, in characters. Long enough for transliterated minority names with a
#: middle dot (e.g. 阿卜杜热合曼·阿卜杜克热木), short enough to keep file names and screens sane.
MAX_NAME_LENGTH = 64

# GB 11643: weight of position i (0-based, left to right) is 2**(17 - i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"    # index = (weighted sum) mod 11
# First two digits: province-level region codes of GB/T 2260, plus 81/82/83 used by residence
# permits for residents of Hong Kong, Macao and Taiwan.
_PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
})
_EARLIEST_BIRTH = _dt.date(1900, 1, 1)

# Characters FAT/exFAT long names cannot hold, plus both path separators.
_FAT_FORBIDDEN = set('<>:"/\\|?*')
# Device names Windows (and FAT tools) treat specially whatever the extension.
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)
_MAX_FILENAME_UNITS = 255   # VFAT/exFAT long name limit, in UTF-16 code units
_MAX_FILENAME_BYTES = 255   # ext4 (and Linux's NAME_MAX): 255 bytes of UTF-8, ~85 Chinese characters
TEMPLATE_FIELDS = ("id_number", "student_id", "name", "college", "class_name", "school_code")


class InvalidIdentity(ValueError):
    """An identity field (or a file name made from it) was refused.

    ``field`` names what was wrong (``"id_number"``, ``"student_id"``, ``"name"``,
    ``"filename"``); ``message`` is the bilingual text for the person or the log.
    """

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(f"{field}: {message.en}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Student:
    """One student as the booth knows them. Build it with :meth:`validated` from any input."""

    student_id: str
    id_number: str
    name: str
    college: str = ""
    class_name: str = ""

    @classmethod
    def validated(cls, *, student_id: str, id_number: str, name: str, college: str = "",
                  class_name: str = "",
                  student_id_pattern: str = DEFAULT_STUDENT_ID_PATTERN) -> "Student":
        """Validate and normalise every field; raises :class:`InvalidIdentity` on the first bad one."""
        return cls(
            student_id=validate_student_id(student_id, student_id_pattern),
            id_number=validate_id_number(id_number),
            name=validate_name(name),
            college=_validate_free_text(college, "college", "学院", "college"),
            class_name=_validate_free_text(class_name, "class_name", "班级", "class"),
        )

    def masked(self) -> str:
        """A short description safe for logs: the ID-card number masked."""
        return f"{self.student_id} {mask_id_number(self.id_number)}"


def id_check_char(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def validate_id_number(value: str, *, today: _dt.date | None = None) -> str:
    """Return the normalised 18-character ID-card number, or raise :class:`InvalidIdentity`.

    Checks the length, the characters, the province code, that the birth date is a real date
    between 1900 and today, and the check character. A lower-case ``x`` is accepted and
    upper-cased; surrounding white space is removed (scanners add it).
    """
    if not isinstance(value, str):
        raise _bad_id("身份证号必须是文字", "the ID-card number must be text")
    s = value.strip().upper()
    if len(s) != 18:
        raise _bad_id(f"身份证号应为18位，现在是{len(s)}位",
                      f"the ID-card number must have 18 characters, not {len(s)}")
    if not (s[:17].isascii() and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X")):
        raise _bad_id("身份证号只能包含数字，最后一位可以是X",
                      "the ID-card number may only contain digits, and X as the last one")
    if int(s[:2]) not in _PROVINCES:
        raise _bad_id("身份证号的地区代码不存在", "the region code of the ID-card number does not exist")
    try:
        born = _dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        born = None
    today = today or _dt.date.today()
    if born is None or not (_EARLIEST_BIRTH <= born <= today):
        raise _bad_id("身份证号中的出生日期无效", "the birth date in the ID-card number is not valid")
    if id_check_char(s[:17]) != s[17]:
        raise _bad_id("身份证号校验位不正确，请检查是否输错", "the ID-card number's check digit is wrong: "
                      "please check for a typing error")
    return s


def validate_student_id(value: str, pattern: str = DEFAULT_STUDENT_ID_PATTERN) -> str:
    """Return the student number (学号) stripped of white space, or raise :class:`InvalidIdentity`.

    The pattern (empty: the default) must match the whole number. Whatever the pattern says, a student number never
    contains anything that is not an ASCII letter, digit, '-' or '_': it may end up in file names.
    """
    pattern = pattern or DEFAULT_STUDENT_ID_PATTERN
    s = value.strip() if isinstance(value, str) else ""
    try:
        matched = re.fullmatch(pattern, s) is not None
    except re.error:
        log.warning("student number pattern %r is not a regular expression; default used", pattern)
        pattern = DEFAULT_STUDENT_ID_PATTERN
        matched = re.fullmatch(pattern, s) is not None
    if not s or not matched:
        raise InvalidIdentity("student_id", Message(
            "学号格式不正确", f"the student number is not in the expected form ({pattern})"))
    if re.fullmatch(r"[A-Za-z0-9_-]+", s) is None:
        raise InvalidIdentity("student_id", Message(
            "学号只能包含字母和数字", "the student number may only contain letters and digits"))
    return s


def validate_name(value: str) -> str:
    """Return the name (NFC-normalised, white space trimmed), or raise :class:`InvalidIdentity`."""
    s = _validate_free_text(value, "name", "姓名", "name")
    if not s:
        raise InvalidIdentity("name", Message("请填写姓名", "the name is missing"))
    return s


def _validate_free_text(value: str, field: str, zh: str, en: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentity(field, Message(f"{zh}必须是文字", f"the {en} must be text"))
    s = unicodedata.normalize("NFC", value).strip()
    if len(s) > MAX_NAME_LENGTH:
        raise InvalidIdentity(field, Message(f"{zh}太长", f"the {en} is too long "
                                                          f"(at most {MAX_NAME_LENGTH} characters)"))
    # Category C*: control, format (zero-width, bidi overrides), surrogate, private, unassigned.
    if any(unicodedata.category(ch).startswith("C") for ch in s):
        raise InvalidIdentity(field, Message(f"{zh}包含不可见的控制字符",
                                             f"the {en} contains invisible control characters"))
    return s


def mask_id_number(value: str) -> str:
    """Show only the first and last four characters: ``'6101**********123X'``.

    Works on any string (also an invalid one being reported), never reveals more than 8
    characters, and fully masks anything of 8 characters or fewer.
    """
    s = str(value)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def render_filename(template: str, student: Student) -> str:
    """The file name for ``student`` from ``template`` (e.g. ``"{id_number}.jpg"``).

    Only the plain fields ``{id_number} {student_id} {name} {college} {class_name}
    {school_code}`` are allowed (no attribute access, indexing or format specs). The result must
    be a single safe base name for a FAT/exFAT stick ending in ``.jpg``/``.JPG``; anything else
    raises :class:`InvalidIdentity` with ``field == "filename"``: no path separators, no ``..``,
    no control characters, none of ``<>:"/\\|?*``, no reserved device name, no leading dot or
    trailing dot/space, at most 255 UTF-16 units (FAT/exFAT) and 255 bytes of UTF-8 (ext4).
    """
    values = {
        "id_number": student.id_number,
        "student_id": student.student_id,
        "name": student.name,
        "college": student.college,
        "class_name": student.class_name,
        "school_code": standard.SCHOOL_CODE,
    }
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _bad_name(f"bad template: {exc}") from None
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        if spec or conversion:
            raise _bad_name(f"format specs and conversions are not allowed in {{{field}}}")
        if field not in values:
            raise _bad_name(f"unknown template field {{{field}}}; allowed: "
                            + " ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS))
        out.append(values[field])
    name = unicodedata.normalize("NFC", "".join(out))
    check_safe_filename(name)
    return name


def check_safe_filename(name: str) -> None:
    """Raise :class:`InvalidIdentity` unless ``name`` is a safe .jpg base name on FAT/exFAT."""
    if not name or name in (".", ".."):
        raise _bad_name("empty file name")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name) or any(
            unicodedata.category(ch).startswith("C") for ch in name):
        raise _bad_name("control characters in the file name")
    bad = sorted(set(name) & _FAT_FORBIDDEN)
    if bad:
        raise _bad_name(f"characters not allowed in a file name: {' '.join(bad)}")
    if ".." in name:
        raise _bad_name("'..' in the file name")
    if name.startswith(".") or name.startswith(" ") or name.endswith((".", " ")):
        raise _bad_name("file names may not start with a dot or space or end with one")
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in _RESERVED_NAMES:
        raise _bad_name(f"{stem} is a reserved device name")
    if len(name.encode("utf-16-le")) // 2 > _MAX_FILENAME_UNITS or \
            len(name.encode("utf-8")) > _MAX_FILENAME_BYTES:
        raise _bad_name("file name too long")
    if not name.endswith(standard.FILE_EXTENSIONS):
        raise _bad_name("the file name must end in " + " or ".join(standard.FILE_EXTENSIONS))


def _bad_id(zh: str, en: str) -> InvalidIdentity:
    return InvalidIdentity("id_number", Message(zh, en))


def _bad_name(en: str) -> InvalidIdentity:
    # the details are for the technician who wrote the template: English only, the Chinese line
    # stays readable for the person at the booth
    return InvalidIdentity("filename", Message("文件名不安全或不符合U盘文件名规则，已拒绝",
                                               "unsafe file name refused: " + en))
