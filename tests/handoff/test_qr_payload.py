"""QR payloads: the four formats, refusals with bilingual messages, roster matching, fuzzing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from handoff_fixtures import make_id_number
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.handoff.qr import QrPayloadError, identify, parse_qr_payload
from kiosk.handoff.roster import parse_roster

IDN = make_id_number(seq=7)


def test_json_with_chinese_keys():
    qr = parse_qr_payload(json.dumps({"学号": "2020000007", "姓名": "张三", "身份证号": IDN,
                                      "学院": "计算机学院", "extra": "ignored"}).encode())
    assert (qr.format, qr.student_id, qr.name, qr.id_number, qr.college) == \
        ("json", "2020000007", "张三", IDN, "计算机学院")
    assert qr.complete


def test_url_query_percent_encoded():
    url = "https://form.example.edu.cn/photo?" + urlencode(
        {"sid": "2020000007", "name": "欧阳·娜娜", "id_number": IDN.lower()})
    qr = parse_qr_payload(url)
    assert qr.format == "url" and qr.name == "欧阳·娜娜" and qr.id_number == IDN


def test_key_value_pairs_with_newlines():
    qr = parse_qr_payload("学号=2020000007\r\n姓名=李四\n班级=计科1班".encode())
    assert (qr.format, qr.student_id, qr.name, qr.class_name) == \
        ("kv", "2020000007", "李四", "计科1班")
    assert not qr.complete


def test_bare_student_number_and_gbk_bytes():
    assert parse_qr_payload(b"  2020000007\r\n").student_id == "2020000007"
    assert parse_qr_payload("学号=2020000007;姓名=王五".encode("gbk")).name == "王五"


def test_formats_can_be_switched_off():
    with pytest.raises(QrPayloadError):
        parse_qr_payload("2020000007", formats=("json",))
    with pytest.raises(QrPayloadError):
        parse_qr_payload('{"sid": "2020000007"}', formats=("bare", "kv"))


@pytest.mark.parametrize("payload", [
    "x" * 600,                                              # oversized
    '{"sid": "2020000007", "name": "<script>alert(1)</script>"}',
    "sid=2020000007;name=Robert'); DROP TABLE students;--",
    "sid=../../etc/passwd",
    "sid=2020000007&name=%2Fetc%2Fpasswd",
    "https://x.example/?sid=2020%2F0007",
    "sid=2020000007;name=张\x00三",
    "sid=2020000007;name=\u202e三张",                      # bidi override
    "学号=2020000007;学号=2020000008",                       # contradicts itself
    '{"sid": {"nested": 1}}',
    '{"sid": "2020000007", "身份证号": "110105200203150001"}',  # bad check digit
    "[1, 2, 3]",
    "name=张三",                                            # no student number
    "hello world",
    "",
])
def test_refused_with_a_bilingual_message(payload):
    with pytest.raises(QrPayloadError) as err:
        parse_qr_payload(payload)
    assert err.value.message.zh and err.value.message.en


def test_identify_uses_the_roster_and_refuses_mismatches():
    roster = parse_roster(f"学号,姓名,身份证号\n2020000007,张三,{IDN}\n".encode())
    assert identify(parse_qr_payload("2020000007"), roster).name == "张三"
    with pytest.raises(QrPayloadError) as err:
        identify(parse_qr_payload("sid=2020000007;name=李四"), roster)
    assert "名单" in err.value.message.zh
    with pytest.raises(QrPayloadError):
        identify(parse_qr_payload("2020000999"), roster)
    # a complete code for a student the roster lacks is accepted
    other = make_id_number(seq=8)
    s = identify(parse_qr_payload(f"sid=2020000008;name=赵六;id_number={other}"), roster)
    assert s.student_id == "2020000008" and s.id_number == other


SAFE_ID = st.from_regex(r"[A-Za-z0-9]{4,20}", fullmatch=True)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=700), st.text(max_size=300),
                 st.dictionaries(st.sampled_from(["sid", "学号", "name", "姓名", "班级", "x"]),
                                 st.text(max_size=30)).map(json.dumps),
                 st.builds(lambda sid, name: f"学号={sid};姓名={name}", SAFE_ID, st.text(max_size=30))))
def test_fuzz_never_crashes_and_accepts_only_safe_values(payload):
    try:
        qr = parse_qr_payload(payload)
    except QrPayloadError as exc:
        assert exc.message.zh and exc.message.en
        return
    for value in (qr.student_id, qr.name, qr.id_number, qr.college, qr.class_name):
        assert not any(c in value for c in '/\\<>"\'`;=&%\x00')
        assert ".." not in value
        assert all(ch.isprintable() for ch in value)
    assert qr.student_id.isascii() and qr.student_id.isalnum()
