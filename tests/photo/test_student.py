"""Student identity: GB 11643 ID-card numbers, student numbers, names, masks and file names."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.photo.student import (
    DEFAULT_STUDENT_ID_PATTERN,
    InvalidIdentity,
    Student,
    id_check_char,
    mask_id_number,
    render_filename,
    validate_id_number,
    validate_name,
    validate_student_id,
)

# The worked example of GB 11643-1999 and a few published specimen numbers.
KNOWN_VALID = ["11010519491231002X", "110101199003074477"]


def make_id(rng: random.Random) -> str:
    """A random number that is valid by construction: region, birth date, sequence, check."""
    province = rng.choice([11, 31, 44, 51, 61, 65, 81])
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    first17 = f"{province}{rng.randrange(10000):04d}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def test_known_numbers_are_valid():
    for number in KNOWN_VALID:
        assert validate_id_number(number) == number


def test_lower_case_x_and_white_space_are_normalised():
    assert validate_id_number(" 11010519491231002x\n") == "11010519491231002X"


def test_check_character_follows_iso7064_mod11_2():
    # hand-computed: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over 11010519491231002 sum to
    # 167; 167 mod 11 = 2 -> 'X'
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


def test_generated_numbers_pass_and_every_single_digit_mutation_fails():
    rng = random.Random(11643)
    for _ in range(200):
        number = make_id(rng)
        assert validate_id_number(number) == number
        pos = rng.randrange(18)
        chars = "0123456789X" if pos == 17 else "0123456789"
        replacement = rng.choice([c for c in chars if c != number[pos]])
        mutated = number[:pos] + replacement + number[pos + 1:]
        with pytest.raises(InvalidIdentity) as err:
            validate_id_number(mutated)
        assert err.value.field == "id_number"


def test_adjacent_transpositions_are_caught():
    rng = random.Random(7)
    caught = 0
    for _ in range(200):
        number = make_id(rng)
        pos = rng.randrange(16)
        if number[pos] == number[pos + 1]:
            continue
        swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2:]
        with pytest.raises(InvalidIdentity):
            validate_id_number(swapped)
        caught += 1
    assert caught > 100


@pytest.mark.parametrize("bad, why", [
    ("11010519491231002", "18"),                 # 17 characters
    ("11010519491231002XX", "18"),
    ("1101051949123100X2", "digits"),            # X not last
    ("11010519491231002Y", "digits"),
    ("１１010519491231002X", "digits"),           # full-width digits
    ("991105194912310029", "region"),            # province 99 does not exist
    ("110105194902300021", "birth date"),        # 30 February
    ("110105180001010011", "birth date"),        # before 1900
    ("110105219901010014", "birth date"),        # in the future
    ("110105194912310021", "check digit"),
])
def test_invalid_numbers_are_refused_with_a_bilingual_reason(bad, why):
    with pytest.raises(InvalidIdentity) as err:
        validate_id_number(bad)
    assert why in err.value.message.en
    assert err.value.message.zh and err.value.message.zh != err.value.message.en


def test_future_birth_date_relative_to_today():
    first17 = "11010520300101001"
    number = first17 + id_check_char(first17)
    with pytest.raises(InvalidIdentity):
        validate_id_number(number, today=dt.date(2026, 1, 1))
    assert validate_id_number(number, today=dt.date(2031, 1, 1)) == number


def test_student_numbers():
    assert validate_student_id(" 2020123456 ") == "2020123456"
    assert validate_student_id("B20201234") == "B20201234"
    for bad in ["", "123", "a" * 21, "2020 1234", "2020/1234", "2020..12", "二〇二〇一二", "2020\n12"]:
        with pytest.raises(InvalidIdentity) as err:
            validate_student_id(bad)
        assert err.value.field == "student_id"


def test_student_number_pattern_is_configurable_but_never_unsafe():
    assert validate_student_id("MF2020-01", r"[A-Z]{2}\d{4}-\d{2}") == "MF2020-01"
    with pytest.raises(InvalidIdentity):
        validate_student_id("2020123456", r"[A-Z]{2}\d{4}-\d{2}")
    with pytest.raises(InvalidIdentity):       # a careless pattern still cannot let '/' through
        validate_student_id("20/20", r".+")


def test_names():
    assert validate_name(" 张三 ") == "张三"
    assert validate_name("阿卜杜热合曼·阿卜杜克热木") == "阿卜杜热合曼·阿卜杜克热木"
    assert validate_name("Zoë O'Neil") == "Zoë O'Neil"
    assert validate_name("e\u0301") == "\u00e9"            # NFC
    for bad in ["", "   ", "张\x00三", "张\n三", "张\u200b三", "\u202e三张", "x" * 65]:
        with pytest.raises(InvalidIdentity) as err:
            validate_name(bad)
        assert err.value.field == "name"


def test_mask_shows_only_four_and_four():
    assert mask_id_number("61010119900101123X") == "6101**********123X"
    assert mask_id_number("12345678") == "********"
    assert mask_id_number("") == ""


def _student(**kw) -> Student:
    base = dict(student_id="2020123456", id_number="11010519491231002X", name="张三")
    base.update(kw)
    return Student(**base)


def test_default_template():
    assert render_filename("{id_number}.jpg", _student()) == "11010519491231002X.jpg"
    assert (render_filename("{school_code}_{student_id}_{name}.JPG", _student())
            == "10727_2020123456_张三.JPG")


@pytest.mark.parametrize("template, name", [
    ("../{id_number}.jpg", "张三"),
    ("/etc/{id_number}.jpg", "张三"),
    ("sub/{id_number}.jpg", "张三"),
    ("{name}.jpg", "../../etc/passwd"),
    ("{name}.jpg", "..\\..\\boot"),
    ("{name}.jpg", ".."),
    ("{name}..jpg", "a"),
    ("{name}.jpg", "a:b"),
    ("{name}.jpg", 'a"b'),
    ("{name}.jpg", "a*b?"),
    ("{name}.jpg", "a|b<c>"),
    ("{name}.jpg", "CON"),
    ("{name}.jpg", "lpt1"),
    ("{name}.jpg", ".hidden"),
    ("{name}", "x"),                       # no .jpg extension
    ("{id_number}.png", "x"),
    ("{id_number}.jpg ", "x"),             # trailing space: FAT drops it
    ("{id_number}.jpg.", "x"),
    ("{id_number.__class__}.jpg", "x"),    # attribute access
    ("{id_number[0]}.jpg", "x"),           # indexing
    ("{id_number!r}.jpg", "x"),
    ("{id_number:>40}.jpg", "x"),
    ("{unknown}.jpg", "x"),
    ("{id_number.jpg", "x"),               # broken template
    ("{name}.jpg", "x" * 300),
    ("{name}{name}{name}{name}.jpg", "王" * 22),   # 88 Chinese characters: 264 bytes > ext4's 255
    ("{name}\x00.jpg", "x"),
])
def test_file_names_that_could_escape_or_break_fat_are_refused(template, name):
    with pytest.raises(InvalidIdentity) as err:
        render_filename(template, _student(name=name))
    assert err.value.field == "filename"
    zh, en = err.value.message.zh, err.value.message.en
    assert zh and en.startswith("unsafe file name refused: ")
    assert en.split(": ", 1)[1] not in zh            # the Chinese line is Chinese, not the English


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_name_gives_a_safe_basename_or_a_refusal(text):
    out = Path("/srv/out")
    try:
        s = Student(student_id="2020123456", id_number="11010519491231002X",
                    name=validate_name(text))
        name = render_filename("{name}_{id_number}.jpg", s)
    except InvalidIdentity:
        return
    assert (out / name).parent == out
    assert "/" not in name and "\\" not in name and ".." not in name and "\x00" not in name
    assert name.endswith(".jpg")


def test_validated_constructor_checks_every_field():
    s = Student.validated(student_id=" 2020123456", id_number="11010519491231002x", name=" 张三",
                          college="信息学院", class_name="2020级1班")
    assert s == Student("2020123456", "11010519491231002X", "张三", "信息学院", "2020级1班")
    assert s.masked() == "2020123456 1101**********002X"
    with pytest.raises(InvalidIdentity) as err:
        Student.validated(student_id="2020123456", id_number="11010519491231002X", name="张三",
                          college="学院\x07")
    assert err.value.field == "college"
    assert DEFAULT_STUDENT_ID_PATTERN


def test_empty_or_broken_pattern_falls_back_to_the_default(caplog):
    assert validate_student_id("2020123456", "") == "2020123456"
    assert validate_student_id("2020123456", "[unclosed") == "2020123456"
    assert "not a regular expression" in caplog.text
    with pytest.raises(InvalidIdentity):
        validate_student_id("12", "")


def test_config_section_for_the_student_number_pattern(tmp_path):
    from kiosk.config import load_config
    path = tmp_path / "kiosk.toml"
    path.write_text('[students]\nstudent_id_pattern = "[0-9]{10}"\n')
    config = load_config(path)
    assert config.students.student_id_pattern == "[0-9]{10}" and not config.warnings
    with pytest.raises(InvalidIdentity):
        Student.validated(student_id="B2020123", id_number="11010519491231002X", name="张三",
                          student_id_pattern=config.students.student_id_pattern)
