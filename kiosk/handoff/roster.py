"""The registrar's roster: who may be photographed, read from a CSV file.

Registrar offices export rosters from spreadsheets, so the reader is forgiving about the form
and strict about the content:

- encoding: UTF-8 (with or without BOM), UTF-16 with BOM ("Unicode text"), or GBK/GB18030 as
  older Chinese Excel versions save it, detected from the bytes; a row with bytes that are
  damaged in that encoding is rejected like any other bad row;
- separator: comma, semicolon or tab, detected from the header line;
- columns found by name, in Chinese or English, in any order (see :data:`COLUMNS`); student
  number, name and ID-card number are required, college and class optional; the header may
  sit below a title row or two (within the first :data:`MAX_HEADER_ROW` rows).

Every row is validated like any other identity (``Student.validated``: GB 11643 check digit,
no control characters, safe student number). A bad row is rejected with its line number and the
reason, and the rest are loaded::

    roster = load_roster("roster.csv")
    roster.find("2020123456")        # -> Student or None
    roster.rejected                  # -> [(7, "身份证号校验位不正确… / the ID-card number's …")]

A file that cannot be used at all (missing, too big, not text, no usable header) raises
:class:`RosterError`, whose ``message`` is bilingual.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.message import Message
from kiosk.photo.student import DEFAULT_STUDENT_ID_PATTERN, InvalidIdentity, Student

log = logging.getLogger(__name__)

MAX_ROSTER_BYTES = 20 * 1024 * 1024     # a whole university's roster is a few MB

# Accepted header names per field, compared after normalising (lower case, no spaces, no
# underscores or hyphens, no brackets).
COLUMNS: dict[str, tuple[str, ...]] = {
    "student_id": ("学号", "学生学号", "学生编号", "studentid", "studentno", "studentnumber",
                   "sid", "xh"),
    "name": ("姓名", "学生姓名", "name", "studentname", "fullname", "xm"),
    "id_number": ("身份证号", "身份证号码", "身份证", "公民身份号码", "证件号", "证件号码",
                  "idnumber", "idno", "idcard", "idcardnumber", "idcardno", "sfzh"),
    "college": ("学院", "院系", "所在学院", "学院名称", "college", "school", "faculty",
                "department"),
    "class_name": ("班级", "班级名称", "行政班", "class", "classname"),
}
REQUIRED = ("student_id", "name", "id_number")
MAX_HEADER_ROW = 5                   # the header is looked for in the first rows (titles above)
DAMAGED = "\ufffd"                   # what a byte sequence the encoding cannot read becomes
FIELD_ZH = {"student_id": "学号", "name": "姓名", "id_number": "身份证号", "college": "学院",
            "class_name": "班级"}


class RosterError(Exception):
    """The roster file cannot be used at all; ``message`` says why in Chinese and English."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


@dataclass
class Roster:
    """The students of a roster, by student number, and the rows that were refused."""

    students: dict[str, Student] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)   # (line number, reason)
    encoding: str = "utf-8"

    def find(self, student_id: str) -> Student | None:
        """The student with this student number (学号), or ``None``."""
        return self.students.get(str(student_id).strip())

    def find_by_id_number(self, id_number: str) -> Student | None:
        """The student with this ID-card number (case of the final X ignored), or ``None``."""
        wanted = str(id_number).strip().upper()
        for s in self.students.values():
            if s.id_number == wanted:
                return s
        return None

    def __len__(self) -> int:
        return len(self.students)


def load_roster(path: str | os.PathLike, *,
                student_id_pattern: str = DEFAULT_STUDENT_ID_PATTERN) -> Roster:
    """Read a roster CSV file; see the module docstring."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_ROSTER_BYTES:
            raise RosterError(Message(f"名单文件太大（{size // 1048576} MB）",
                                      f"the roster file is too large ({size // 1048576} MB)"))
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(Message(f"无法读取名单文件：{path.name}",
                                  f"cannot read the roster file {path.name}: {exc.strerror}")) from exc
    roster = parse_roster(data, student_id_pattern=student_id_pattern)
    log.info("roster %s: %d students loaded, %d rows rejected (%s)", path.name,
             len(roster), len(roster.rejected), roster.encoding)
    return roster


def decode(data: bytes) -> tuple[str, str]:
    """The text of a roster and the encoding it was in."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[2:].decode(enc), "utf-16"
            except UnicodeDecodeError:
                pass
    for enc in ("utf-8", "gb18030"):     # GB18030 is a superset of GBK and GB2312
        try:
            return data.decode(enc), ("gbk" if enc == "gb18030" else enc)
        except UnicodeDecodeError:
            continue
    # A few damaged bytes (a cell edited in a tool with another encoding, a bad copy) must cost
    # only their rows, not the whole roster: decode with U+FFFD in their place, in whichever
    # encoding needs fewer of them, and let parse_roster reject the rows that carry one.
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = data[3:].decode("utf-8", "replace"), "utf-8-sig"
    else:
        text, encoding = min(((data.decode(enc, "replace"), label)
                              for enc, label in (("utf-8", "utf-8"), ("gb18030", "gbk"))),
                             key=lambda t: t[0].count(DAMAGED))
    header = next((line for line in text.splitlines() if line.strip()), "")
    if DAMAGED in header or text.count(DAMAGED) > max(2, len(text) // 50):
        raise RosterError(Message("名单文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV 文件",
                                  "the roster's text encoding is not recognised; save it as a "
                                  "CSV file in UTF-8 or GBK"))
    log.warning("roster: %d damaged byte sequence(s) in %s text; their rows are rejected",
                text.count(DAMAGED), encoding)
    return text, encoding


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_\-()（）\[\]【】:：*]", "", text.strip().lstrip("\ufeff")).lower()


_ALIASES = {_norm_header(a): f for f, names in COLUMNS.items() for a in names}


def parse_roster(data: bytes, *,
                 student_id_pattern: str = DEFAULT_STUDENT_ID_PATTERN) -> Roster:
    """Parse roster bytes (the file's content); see the module docstring."""
    text, encoding = decode(data)
    text = text.replace("\x00", "")
    lines = text.splitlines()
    first_lines = [line for line in lines if line.strip()][:MAX_HEADER_ROW]
    if not first_lines:
        raise RosterError(Message("名单文件是空的", "the roster file is empty"))
    # the separator of the first line that has one (a title line may have none)
    header_line = next((line for line in first_lines if any(d in line for d in ",;\t")),
                       first_lines[0])
    delimiter = max(",;\t", key=header_line.count)
    if header_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    roster = Roster(encoding=encoding)
    columns: dict[str, int] | None = None
    last_line = 0
    seen_ids: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    header_error: RosterError | None = None
    rows_before_header = 0
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            roster.rejected.append((start, f"无法解析，之后的行已忽略 / unreadable CSV, the rest "
                                           f"of the file was skipped: {exc}"))
            break
        last_line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            # Spreadsheet exports often start with a title row ("2024届毕业生名单") above the
            # header: the header is the first of the first few rows that names the columns.
            try:
                columns = _header_columns(row)
            except RosterError as exc:
                header_error = header_error or exc
                rows_before_header += 1
                if rows_before_header >= MAX_HEADER_ROW:
                    raise header_error from None
                continue
            if rows_before_header:
                log.info("roster: %d row(s) above the header skipped", rows_before_header)
            continue
        if any(DAMAGED in cell for cell in row):
            roster.rejected.append((start, "含有无法识别的字符（编码损坏），请在名单中改正此行 / "
                                           "damaged characters (bytes not valid in the file's "
                                           "encoding): correct this row in the roster"))
            continue
        values = {f: (row[i].strip() if i < len(row) else "") for f, i in columns.items()}
        try:
            student = Student.validated(student_id=values["student_id"],
                                        id_number=values["id_number"], name=values["name"],
                                        college=values.get("college", ""),
                                        class_name=values.get("class_name", ""),
                                        student_id_pattern=student_id_pattern)
        except InvalidIdentity as exc:
            where = FIELD_ZH.get(exc.field, exc.field)
            roster.rejected.append((start, f"{where}：{exc.message.zh} / {exc.message.en}"))
            continue
        if student.student_id in seen_ids:
            first = seen_ids[student.student_id]
            roster.rejected.append((start, f"学号与第{first}行重复 / student number already on "
                                           f"line {first}"))
            continue
        if student.id_number in seen_numbers:
            first = seen_numbers[student.id_number]
            roster.rejected.append((start, f"身份证号与第{first}行重复 / ID-card number already "
                                           f"on line {first}"))
            continue
        seen_ids[student.student_id] = start
        seen_numbers[student.id_number] = start
        roster.students[student.student_id] = student
    if columns is None:
        if header_error is not None:
            raise header_error
        raise RosterError(Message("名单文件没有数据", "the roster file has no rows"))
    return roster


def _header_columns(row: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(row):
        f = _ALIASES.get(_norm_header(cell))
        if f is not None and f not in columns:
            columns[f] = i
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        zh = "、".join(FIELD_ZH[f] for f in missing)
        raise RosterError(Message(
            f"名单缺少必需的列：{zh}（表头需要 学号、姓名、身份证号）",
            f"the roster lacks the column(s) {', '.join(missing)} (the header needs student "
            "number / 学号, name / 姓名 and ID-card number / 身份证号)"))
    return columns
