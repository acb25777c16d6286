"""The roster reader: encodings, header names, rejected rows with line numbers, fuzzing."""

from __future__ import annotations

import pytest
from handoff_fixtures import make_id_number
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.handoff.roster import RosterError, load_roster, parse_roster

GOOD1 = make_id_number(seq=101)
GOOD2 = make_id_number(seq=102)
GOOD3 = make_id_number(seq=103)
BAD_CHECK = GOOD1[:-1] + ("0" if GOOD1[-1] != "0" else "1")


def test_utf8_with_bom_chinese_headers(tmp_path):
    text = ("学号,姓名,身份证号,学院,班级\n"
            f"2020000101,张三,{GOOD1},计算机学院,计科1班\n"
            f"2020000102,李四,{GOOD2.lower()},数学学院,数学2班\n")
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    roster = load_roster(path)
    assert len(roster) == 2 and roster.rejected == []
    s = roster.find("2020000101")
    assert (s.name, s.id_number, s.college, s.class_name) == ("张三", GOOD1, "计算机学院", "计科1班")
    assert roster.find_by_id_number(GOOD2.lower()).student_id == "2020000102"
    assert roster.find("9999") is None
    assert roster.encoding == "utf-8-sig"


def test_gbk_detected_and_english_headers_in_any_order(tmp_path):
    text = ("Name,ID_Number,Student ID,Class,College\r\n"
            f"王小明,{GOOD1},2020000101,软件1班,软件学院\r\n")
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("gbk"))
    roster = load_roster(path)
    assert roster.encoding == "gbk"
    s = roster.find("2020000101")
    assert s.name == "王小明" and s.class_name == "软件1班" and s.college == "软件学院"


def test_tab_separated_utf16_as_excel_unicode_text():
    text = f"学号\t姓名\t身份证号码\n2020000101\t欧阳·娜娜\t{GOOD1}\n"
    roster = parse_roster(b"\xff\xfe" + text.encode("utf-16-le"))
    assert roster.find("2020000101").name == "欧阳·娜娜"


def test_rejected_rows_report_their_line_numbers_and_the_rest_loads():
    text = ("学号,姓名,身份证号\n"
            f"2020000101,张三,{GOOD1}\n"            # line 2 ok
            f"2020000102,李四,{BAD_CHECK}\n"        # line 3 bad check digit
            "\n"                                     # line 4 blank: skipped silently
            f"2020000103,,{GOOD3}\n"                 # line 5 no name
            f"2020000101,张三丰,{GOOD2}\n"           # line 6 duplicate student number
            f"20/../x,坏人,{GOOD2}\n"                # line 7 hostile student number
            f"2020000104,\"多行\n名字\",{GOOD2}\n"    # line 8-9 control char in name
            f"2020000105,赵六,{GOOD1}\n"             # line 10 duplicate ID number
            f"2020000106,孙七,{GOOD2}\n")            # line 11 ok
    roster = parse_roster(text.encode("utf-8"))
    assert sorted(roster.students) == ["2020000101", "2020000106"]
    lines = [line for line, _ in roster.rejected]
    assert lines == [3, 5, 6, 7, 8, 10]
    reasons = dict(roster.rejected)
    assert "校验位" in reasons[3] and "check digit" in reasons[3]
    assert "第2行" in reasons[6] and "line 2" in reasons[6]
    assert "line 2" in reasons[10]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_a_row_with_damaged_bytes_is_rejected_by_line_and_the_rest_loads(encoding):
    rows = ["学号,姓名,身份证号", f"2020000101,王小明,{GOOD1}", f"2020000102,李四,{GOOD2}",
            f"2020000103,赵六,{GOOD3}"]
    codec = "gbk" if encoding == "gbk" else "utf-8"
    data = [r.encode(codec) for r in rows]
    # line 3: the name's last byte is one no GBK or UTF-8 text can hold (a damaged cell)
    data[2] = data[2].replace("李四".encode(codec), "李".encode(codec) + b"\xff")
    bom = b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b""
    roster = parse_roster(bom + b"\r\n".join(data) + b"\r\n")
    assert sorted(roster.students) == ["2020000101", "2020000103"]
    assert roster.find("2020000101").name == "王小明"
    [(line, reason)] = roster.rejected
    assert line == 3 and "编码" in reason and "damaged" in reason
    assert roster.encoding == encoding


def test_a_file_that_is_mostly_undecodable_is_refused_as_a_whole():
    with pytest.raises(RosterError) as err:
        parse_roster("学号,姓名,身份证号\n".encode("gbk") + bytes(range(0x80, 0x100)) * 4)
    assert "编码" in err.value.message.zh and "encoding" in err.value.message.en


@pytest.mark.parametrize("sep", [",", "\t"])
def test_title_rows_above_the_header_are_skipped(sep):
    """Spreadsheet exports often carry a title (and a blank row) above the header."""
    title = "2024届毕业生补拍名单" + sep * 2          # a merged title cell exports like this
    text = "\n".join([title, "制表：学生处", "", sep.join(["学号", "姓名", "身份证号"]),
                      sep.join(["2020000101", "张三", GOOD1]),
                      sep.join(["2020000102", "李四", BAD_CHECK])]) + "\n"
    roster = parse_roster(text.encode("gbk"))
    assert sorted(roster.students) == ["2020000101"] and roster.encoding == "gbk"
    assert [line for line, _ in roster.rejected] == [6]        # physical line numbers kept


def test_a_header_too_far_down_is_not_guessed():
    text = "\n".join([f"标题{i}" for i in range(6)] + ["学号,姓名,身份证号", f"2020000101,张三,{GOOD1}"])
    with pytest.raises(RosterError) as err:
        parse_roster(text.encode())
    assert "身份证号" in err.value.message.zh


def test_missing_required_column_is_a_clear_error():
    with pytest.raises(RosterError) as err:
        parse_roster("学号,姓名\n2020000101,张三\n".encode())
    assert "身份证号" in err.value.message.zh and "ID-card" in err.value.message.en


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xff\xfe\xff", b"\x81\x30\xff\xff\xfe"])
def test_unusable_files_raise_roster_error(data):
    with pytest.raises(RosterError):
        parse_roster(data)


def test_missing_file_is_a_roster_error(tmp_path):
    with pytest.raises(RosterError) as err:
        load_roster(tmp_path / "nope.csv")
    assert err.value.message.zh


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_bytes_never_crash(data):
    try:
        roster = parse_roster(data)
    except RosterError as exc:
        assert exc.message.zh and exc.message.en
        return
    for s in roster.students.values():
        assert "/" not in s.student_id and "\\" not in s.student_id


cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8))
def test_fuzz_rows_under_a_good_header(rows):
    import csv
    import io
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["学号", "姓名", "身份证号"])
    w.writerow(["2020000101", "张三", GOOD1])
    w.writerows(rows)
    roster = parse_roster(out.getvalue().encode("utf-8"))
    # the good row is always loaded; every other row is either loaded valid or rejected
    assert roster.find("2020000101") is not None
    for line, reason in roster.rejected:
        assert line >= 3 and reason
    for s in roster.students.values():
        assert s.student_id.isascii() and s.student_id.isalnum()
