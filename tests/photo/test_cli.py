"""The ``kiosk`` command, run as a real process: make → verify round trip, JSON, exit codes."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.photo.checks.result import CONFIRMABLE_IDS
from kiosk.photo.jpeg import COM, parse_jpeg, read_segments
from kiosk.sim.scenes import compose_scene

ID = "11010519491231002X"
MAKE_ARGS = ["--student-id", "2020123456", "--id-number", ID, "--name", "张三"]
STATUSES = {"pass", "warn", "fail", "unknown"}
# What an operator confirms by looking at the bareheaded student when the head measures cannot
# decide (his ears and a possible stud are too small to tell at this scale)
CONFIRM_HEAD = ["--confirm", "occlusion.hair", "--confirm", "attire.jewelry"]


def kiosk(*args: str, env_extra: dict | None = None, timeout: float = 120):
    env = dict(os.environ)
    env["KIOSK_CONFIG"] = os.devnull + ".missing.toml"   # defaults, never the machine's config
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=Path(__file__).resolve().parents[2])


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def assert_schema(obj: dict, *, extra_keys: set[str] = frozenset()) -> None:
    """The issue's schema: file, verdict, checks[{id, status, value, limit, message{zh,en}}]."""
    assert {"file", "verdict", "checks"} <= set(obj) <= {"file", "verdict", "checks"} | extra_keys
    assert isinstance(obj["file"], str) and obj["verdict"] in STATUSES
    assert obj["checks"]
    for c in obj["checks"]:
        assert set(c) == {"id", "status", "value", "limit", "message"}
        assert isinstance(c["id"], str) and c["status"] in STATUSES
        assert c["value"] is None or (isinstance(c["value"], (int, float, str))
                                      and not isinstance(c["value"], bool))
        assert c["limit"] is None or isinstance(c["limit"], str)
        assert set(c["message"]) == {"zh", "en"}
        assert all(isinstance(v, str) for v in c["message"].values())


def assert_clean_error(proc) -> None:
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "kiosk" in proc.stderr


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder with a good scene, a bad scene, a key, and the file `make` wrote."""
    d = tmp_path_factory.mktemp("cli")
    Image.fromarray(compose_scene("franck-front", "blue", roll_deg=-5.5)).save(d / "good.png")
    Image.fromarray(compose_scene("hopper", "blue", scale=0.35)).save(d / "far.png")
    proc = kiosk("keygen", str(d / "registrar.key"))
    assert proc.returncode == 0, proc.stderr
    proc = kiosk("make", str(d / "good.png"), *MAKE_ARGS, *CONFIRM_HEAD, "--out", str(d / "out"),
                 "--key", str(d / "registrar.key"), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (d / "make.json").write_text(proc.stdout)
    return d


def test_keygen_makes_a_private_key_and_never_overwrites(work):
    key = work / "registrar.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    proc = kiosk("keygen", str(key))
    assert_clean_error(proc)
    assert key.read_bytes() == before


def test_make_writes_the_file_named_by_the_template(work):
    out = work / "out" / f"{ID}.jpg"
    assert out.is_file()
    [obj] = json_lines((work / "make.json").read_text())
    assert_schema(obj, extra_keys={"output", "quality", "size", "encodes", "size_warning", "confirmed"})
    assert obj["output"] == str(out) and obj["verdict"] in {"pass", "warn"}
    assert obj["quality"] >= 60 and obj["size"] == out.stat().st_size
    info = parse_jpeg(out.read_bytes())
    assert (info.width, info.height) == (480, 640) and len(info.comments) == 1


def test_round_trip_verify_passes_with_the_key(work):
    proc = kiosk("verify", str(work / "out"), "--key", str(work / "registrar.key"), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [obj] = json_lines(proc.stdout)
    assert_schema(obj, extra_keys={"identity"})
    assert obj["verdict"] in {"pass", "warn"}
    assert obj["identity"]["id_number"] == ID and obj["identity"]["student_id"] == "2020123456"
    statuses = {c["id"]: c["status"] for c in obj["checks"]}
    assert statuses["file.id_embedded"] == "pass" and statuses["file.untransformed"] == "pass"
    assert statuses["layout.eyes"] == "pass"


def test_verify_without_the_key_warns(work):
    proc = kiosk("verify", str(work / "out" / f"{ID}.jpg"), "--json", "--no-image-checks")
    assert proc.returncode == 0, proc.stderr
    [obj] = json_lines(proc.stdout)
    assert obj["verdict"] == "warn"
    assert {c["id"]: c["status"] for c in obj["checks"]}["file.id_embedded"] == "warn"


def test_files_edited_afterwards_fail_verify(work):
    original = (work / "out" / f"{ID}.jpg").read_bytes()
    edited = work / "edited"
    edited.mkdir()
    with Image.open(io.BytesIO(original)) as im:
        im.save(edited / "resaved_smaller.jpg", "JPEG", quality=60, dpi=(300, 300))
        im.transpose(Image.FLIP_LEFT_RIGHT).save(edited / "mirrored.jpg", "JPEG", quality=75,
                                                 dpi=(300, 300), comment=im.info["comment"])
    com = next(s for s in read_segments(original) if s.marker == COM)
    (edited / "comment_removed.jpg").write_bytes(original[:com.start] + original[com.end:])
    (edited / "appended.jpg").write_bytes(original + b"hidden payload")
    proc = kiosk("verify", str(edited), "--key", str(work / "registrar.key"), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    objs = {Path(o["file"]).name: o for o in json_lines(proc.stdout)}
    assert set(objs) == {"resaved_smaller.jpg", "mirrored.jpg", "comment_removed.jpg",
                         "appended.jpg"}
    for name, obj in objs.items():
        assert_schema(obj, extra_keys={"identity"})
        assert obj["verdict"] == "fail", name
    failing = {n: {c["id"] for c in o["checks"] if c["status"] == "fail"} for n, o in objs.items()}
    assert "file.untransformed" in failing["resaved_smaller.jpg"]
    assert "file.untransformed" in failing["mirrored.jpg"]
    assert "file.id_embedded" in failing["comment_removed.jpg"]
    assert "file.clean" in failing["appended.jpg"]


def test_files_resized_truncated_or_not_jpeg_fail_verify_cleanly(work):
    """Re-saved at another pixel size, cut short, or a PNG renamed .jpg: exit 1, one JSON object
    each, the rule that catches it failing, never a traceback."""
    original = (work / "out" / f"{ID}.jpg").read_bytes()
    d = work / "damaged"
    d.mkdir()
    with Image.open(io.BytesIO(original)) as im:
        im.resize((450, 600)).save(d / "resized.jpg", "JPEG", quality=90, dpi=(300, 300),
                                   comment=im.info["comment"])
        im.save(d / "png_named.jpg", "PNG")
    (d / "truncated.jpg").write_bytes(original[: len(original) // 2])
    (d / "empty.jpg").write_bytes(b"")
    proc = kiosk("verify", str(d), "--key", str(work / "registrar.key"), "--json",
                 "--no-image-checks")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    objs = {Path(o["file"]).name: o for o in json_lines(proc.stdout)}
    assert set(objs) == {"resized.jpg", "png_named.jpg", "truncated.jpg", "empty.jpg"}
    failing = {n: {c["id"] for c in o["checks"] if c["status"] == "fail"} for n, o in objs.items()}
    for name, obj in objs.items():
        assert_schema(obj, extra_keys={"identity"})
        assert obj["verdict"] == "fail", name
    assert {"file.dimensions", "file.untransformed"} <= failing["resized.jpg"]
    for name in ("png_named.jpg", "truncated.jpg", "empty.jpg"):
        assert failing[name] == {"file.format"}, name


def test_unreadable_captures_and_empty_folders_exit_2(work, tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    good = (work / "out" / f"{ID}.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (tmp_path / "no_jpegs").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "no_jpegs" / "picture.png")
    for args in (("check", str(tmp_path / "empty.jpg")),
                 ("check", str(tmp_path / "truncated.jpg")),
                 ("check", str(tmp_path / "no_jpegs")),            # a folder is not an image
                 ("verify", str(tmp_path / "no_jpegs")),           # a folder without JPEG files
                 ("verify", str(tmp_path / "missing.jpg"))):
        proc = kiosk(*args, "--json")
        assert_clean_error(proc)
        assert proc.stdout == "", args
    # an unknown identity scheme in the config is a usage error, before any model loads
    (tmp_path / "bad.toml").write_text('[booth]\nidentity_scheme = "no-such-scheme"\n')
    proc = kiosk("make", str(work / "good.png"), *MAKE_ARGS, "--out", str(tmp_path / "o"),
                 "--key", str(work / "registrar.key"), "--config", str(tmp_path / "bad.toml"))
    assert_clean_error(proc)
    assert "no-such-scheme" in proc.stderr and not (tmp_path / "o").exists()


def test_one_unreadable_image_among_good_ones_still_reports_the_others(work, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    proc = kiosk("check", str(work / "good.png"), str(tmp_path / "broken.jpg"), "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    [obj] = json_lines(proc.stdout)
    assert_schema(obj)
    assert obj["file"].endswith("good.png") and "broken.jpg" in proc.stderr


def test_check_json_and_exit_codes(work):
    proc = kiosk("check", str(work / "good.png"), str(work / "far.png"), "--json")
    assert proc.returncode == 1, proc.stderr
    good, far = json_lines(proc.stdout)
    for obj in (good, far):
        assert_schema(obj)
    # the good scene fails nothing; only what a person must confirm is undecided (exit 1 until then)
    assert good["verdict"] == "unknown" and far["verdict"] == "fail"
    undecided = {c["id"] for c in good["checks"] if c["status"] == "unknown"}
    assert undecided and undecided <= CONFIRMABLE_IDS
    assert not [c for c in good["checks"] if c["status"] == "fail"]
    assert good["file"].endswith("good.png")
    proc = kiosk("check", str(work / "good.png"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "good.png" in proc.stdout


def test_make_refuses_a_failing_capture_and_writes_nothing(work, tmp_path):
    proc = kiosk("make", str(work / "far.png"), *MAKE_ARGS, "--out", str(tmp_path / "o"),
                 "--key", str(work / "registrar.key"))
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout
    assert not list((tmp_path / "o").glob("*"))


def test_bad_usage_and_unreadable_input_exit_2(work, tmp_path):
    (tmp_path / "not_an_image.jpg").write_text("hello")
    assert_clean_error(kiosk("check", str(tmp_path / "missing.png")))
    assert_clean_error(kiosk("check", str(tmp_path / "not_an_image.jpg")))
    assert_clean_error(kiosk("verify", str(tmp_path / "missing")))
    key = str(work / "registrar.key")
    bad_id = kiosk("make", str(work / "good.png"), "--student-id", "2020123456", "--id-number",
                   "110105194912310021", "--name", "张三", "--out", str(tmp_path), "--key", key)
    assert_clean_error(bad_id)
    assert "check digit" in bad_id.stderr and "校验位" in bad_id.stderr
    escape = kiosk("make", str(work / "good.png"), *MAKE_ARGS, "--out", str(tmp_path), "--key",
                   key, "--template", "../{id_number}.jpg")
    assert_clean_error(escape)
    no_key = kiosk("make", str(work / "good.png"), *MAKE_ARGS, "--out", str(tmp_path), "--key",
                   str(tmp_path / "none.key"))
    assert_clean_error(no_key)
    assert "key file not found" in no_key.stderr
    assert kiosk().returncode == 2                       # no subcommand
    assert kiosk("make", "x.png").returncode == 2        # argparse: required options missing
    assert not list(tmp_path.glob("*.jpg"))[1:]          # only not_an_image.jpg is there


def test_json_values_are_numbers_strings_or_null_whatever_a_check_measured():
    import numpy as np

    from kiosk.photo.checks.result import CheckResult, Status
    values = [np.float32(1.23456), np.int64(7), float("nan"), float("inf"), np.float64("nan"),
              np.bool_(True), 2.0004, "180×640", None]
    dumped = [CheckResult("x.y", Status.PASS, v).to_dict()["value"] for v in values]
    assert dumped == [1.235, 7, None, None, None, 1, 2.0, "180×640", None]
    assert json.loads(json.dumps(dumped, allow_nan=False)) == dumped


def test_subcommands_from_other_modules_are_optional(tmp_path, monkeypatch):
    """Missing or broken plug-in modules never take the engine's own commands down."""
    import kiosk.cli as cli
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('broken on import')\n")
    (tmp_path / "hello_plugin.py").write_text(
        "def register(sub):\n"
        "    p = sub.add_parser('hello')\n"
        "    p.set_defaults(func=lambda args: 7)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "COMMAND_MODULES",
                        ("kiosk.nowhere.cli", "no_such_module", "broken_plugin", "hello_plugin"))
    parser = cli.build_parser()
    names = set(parser._subparsers._group_actions[0].choices)
    assert {"check", "make", "verify", "keygen", "hello"} <= names
    assert cli.main(["hello"]) == 7
