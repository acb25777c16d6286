"""Any of the standard's three backdrops passes every command without being told which one;
the nearest reference is named and recorded; a wrong backdrop still fails; ``--backdrop``
narrows the choice; technician mode's empty-booth check agrees with the validator.

Scenes are a real photograph composed on each backdrop (kiosk.sim.scenes); the commands run as
real processes with the default config (no booth config on the machine)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_cli import ID, MAKE_ARGS, json_lines, kiosk

from kiosk.config import Config
from kiosk.photo.checks import run_checks
from kiosk.photo.checks.result import CONFIRMABLE_IDS, Status
from kiosk.sim.scenes import compose_scene
from kiosk.sim.simulator import BAREHEADED
from kiosk.technician.backdrop import check_backdrop, found_backdrop

# the simulator's bareheaded student: no rule fails on him (what the camera cannot decide, a
# person confirms: here the test's --confirm, on the booth the student)
FACE, STANCE = BAREHEADED.face, {"roll_deg": BAREHEADED.roll_deg}
# His head leans about 10° in his photograph; standing against it puts pose.roll and
# pose.shoulders within half a degree of their limits, where the models' noise tips them either
# way from one backdrop to the next. They are not what this file tests: any other rule must pass.
NEAR_LIMIT = {"pose.roll", "pose.shoulders"}
STANDARD = ("blue", "white", "grey")
BACKGROUND_IDS = ("background.color", "background.uniform", "background.shadow",
                  "background.clutter", "image.color")


def finished_file(rgb, student, key, analyzer) -> bytes:
    """The booth's file for a scene: the planned crop, encoded and sealed by the engine (the
    capture checks are the subject of other tests; these files are about the backdrop)."""
    from kiosk.photo.crop import apply_crop, plan_crop
    from kiosk.photo.engine import encode_and_seal
    plan = plan_crop(analyzer.analyze(rgb))
    assert plan.ok, plan.problem
    jpeg, _ = encode_and_seal(apply_crop(rgb, plan), student, key=key)
    return jpeg


@pytest.fixture(scope="module")
def made(tmp_path_factory, analyzer) -> Path:
    """One scene per backdrop, the registrar's key, and the finished file for each (no
    --backdrop anywhere)."""
    from kiosk.photo.identity import load_key
    from kiosk.photo.student import Student
    d = tmp_path_factory.mktemp("backdrops")
    for bd in (*STANDARD, "deep_blue"):
        Image.fromarray(compose_scene(FACE, bd, **STANCE)).save(d / f"{bd}.png")
    assert kiosk("keygen", str(d / "registrar.key")).returncode == 0
    me = Student(student_id=MAKE_ARGS[1], id_number=ID, name=MAKE_ARGS[5])
    for bd in STANDARD:
        (d / "out" / bd).mkdir(parents=True)
        rgb = np.asarray(Image.open(d / f"{bd}.png"))
        (d / "out" / bd / f"{ID}.jpg").write_bytes(
            finished_file(rgb, me, load_key(d / "registrar.key"), analyzer))
    return d


def _by_id(obj: dict) -> dict:
    return {c["id"]: c for c in obj["checks"]}


def test_check_accepts_each_standard_backdrop_and_names_it(made):
    proc = kiosk("check", *(str(made / f"{bd}.png") for bd in (*STANDARD, "deep_blue")), "--json")
    objs = json_lines(proc.stdout)
    assert proc.returncode == 1                                   # the dark blue one fails
    for bd, obj in zip(STANDARD, objs):
        checks = _by_id(obj)
        # nothing fails (but see NEAR_LIMIT); what is undecided is a point a person confirms
        assert all(c["status"] == "pass" or (c["status"] == "unknown" and c["id"] in CONFIRMABLE_IDS)
                   for c in obj["checks"] if c["id"] not in NEAR_LIMIT), \
            (bd, [c for c in obj["checks"] if c["status"] != "pass"])
        # not being told the backdrop changes nothing against being told the right one
        told = kiosk("check", str(made / f"{bd}.png"), "--backdrop", bd, "--json")
        assert {c["id"]: c["status"] for c in json_lines(told.stdout)[0]["checks"]} == \
            {i: c["status"] for i, c in checks.items()}
        assert all(checks[i]["status"] == "pass" for i in BACKGROUND_IDS), (bd, checks)
        assert f"ΔE00 to {bd} RGB" in checks["background.color"]["limit"]   # the one found
        assert checks["background.color"]["value"] < 1.0
    dark = _by_id(objs[3])
    assert objs[3]["verdict"] == "fail" and dark["background.color"]["status"] == "fail"
    assert dark["background.color"]["value"] > 20


def test_backdrop_option_narrows_to_the_installed_colour(made):
    proc = kiosk("check", str(made / "blue.png"), "--backdrop", "white", "--json")
    [obj] = json_lines(proc.stdout)
    assert proc.returncode == 1 and _by_id(obj)["background.color"]["status"] == "fail"
    assert "ΔE00 to white RGB(255, 255, 255)" in _by_id(obj)["background.color"]["limit"]
    proc = kiosk("check", str(made / "blue.png"), "--backdrop", "blue", "--json")
    assert _by_id(json_lines(proc.stdout)[0])["background.color"]["status"] == "pass"


def test_verify_passes_each_backdrop_without_being_told(made):
    proc = kiosk("verify", str(made / "out"), "--key", str(made / "registrar.key"), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    objs = json_lines(proc.stdout)
    assert len(objs) == 3
    for obj in objs:
        bd = Path(obj["file"]).parent.name
        checks = _by_id(obj)
        assert obj["verdict"] in ("pass", "warn")
        assert checks["background.color"]["status"] == "pass"
        assert f"ΔE00 to {bd} RGB" in checks["background.color"]["limit"]
    # the same file, told it was taken on another backdrop, fails
    proc = kiosk("verify", str(made / "out" / "white"), "--key", str(made / "registrar.key"),
                 "--backdrop", "blue", "--json")
    assert proc.returncode == 1


def test_registrar_verify_passes_an_export_of_three_backdrops_and_the_manifest_names_them(
        made, tmp_path, analyzer):
    from kiosk.handoff.export import export_pending
    from kiosk.handoff.export.stick import ProbedStatus
    from kiosk.handoff.spool import Spool, record_for
    from kiosk.photo.identity import load_key
    from kiosk.photo.student import Student, id_check_char
    from kiosk.photo.verify import verify_bytes

    key = load_key(made / "registrar.key")
    spool = Spool(tmp_path / "state")
    for n, bd in enumerate(STANDARD):
        first17 = f"11010520020315{n:03d}"
        student = Student(student_id=f"2026000{n:03d}", id_number=first17 + id_check_char(first17),
                          name=f"学生{n}")
        jpeg = finished_file(np.asarray(Image.open(made / f"{bd}.png")), student, key, analyzer)
        report = verify_bytes(jpeg, key=key, expected=student, analyzer=analyzer, config=Config())
        assert report.ok, [c for c in report.checks if c.blocking]
        record = record_for(report)                  # what the booth records: the file's checks
        assert record["backdrop"] == bd
        spool.add(student, jpeg, record)
    usb = tmp_path / "usb"
    usb.mkdir()
    assert export_pending(spool, usb, booth_id="booth1", template="{id_number}.jpg",
                          status=ProbedStatus(True, str(usb), 10**9, False, "vfat")).ok
    doc = json.loads(next(usb.rglob("manifest.json")).read_text("utf-8"))
    assert sorted(p["backdrop"] for p in doc["photos"]) == sorted(STANDARD)
    csv_text = next(usb.rglob("manifest.csv")).read_text("utf-8-sig")
    assert all(word in csv_text for word in ("浅蓝色 blue", "白色 white", "浅灰色 grey"))
    proc = kiosk("registrar", "verify", str(usb), "--key", str(made / "registrar.key"), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json_lines(proc.stdout)
    assert sorted(r["backdrop"] for r in rows) == sorted(STANDARD)
    assert all(r["status"] in ("pass", "warn") and not r["problems"] for r in rows), rows


# --- technician mode's empty-booth check and the validator agree -------------------------------

def empty_booth(rgb, *, gradient=0.0, size=(640, 480), seed=0) -> np.ndarray:
    """An empty booth's frame: the backdrop, a brightness gradient, a little sensor noise."""
    w, h = size
    frame = np.empty((h, w, 3), np.float32)
    frame[:] = rgb
    frame *= (1 - gradient * np.linspace(0, 1, w, dtype=np.float32))[None, :, None]
    frame += np.random.default_rng(seed).normal(0, 1.5, frame.shape)
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)


CASES = [  # backdrop colour, gradient, booth.backdrop setting
    ((100, 197, 255), 0.0, "any"), ((255, 255, 255), 0.0, "any"), ((240, 240, 240), 0.0, "any"),
    ((40, 90, 200), 0.0, "any"), ((225, 205, 170), 0.0, "any"), ((255, 255, 255), 0.0, "blue"),
    ((100, 197, 255), 0.0, "white"), ((240, 240, 240), 0.0, "grey"), ((230, 236, 250), 0.0, "any"),
    ((100, 197, 255), 0.3, "any"), ((240, 240, 240), 0.12, "any"), ((255, 255, 255), 0.02, "any"),
]


@pytest.mark.parametrize("colour,gradient,setting", CASES)
def test_technician_backdrop_check_agrees_with_the_validator(scenes, colour, gradient, setting):
    """The same backdrop, empty (technician) and behind a student (the validator): the same
    answer for colour and evenness, and the same standard colour named."""
    tech = {r.id: r for r in check_backdrop(empty_booth(colour, gradient=gradient), setting)}
    _, analysis, plan = scenes(face=FACE, backdrop=colour, gradient=gradient, **STANCE)
    config = Config()
    config.booth.backdrop = setting
    photo = {r.id: r for r in run_checks(analysis, config, crop=plan,
                                         ids=["background.color", "background.uniform"])}
    for rule in ("background.color", "background.uniform"):
        assert tech[rule].status == photo[rule].status, (rule, tech[rule], photo[rule])
    assert tech["background.color"].found == photo["background.color"].found
    assert found_backdrop(list(tech.values())) == photo["background.color"].found


def test_technician_check_names_the_backdrop_it_found():
    for name, rgb in (("blue", (100, 197, 255)), ("white", (255, 255, 255)), ("grey", (240, 240, 240))):
        results = check_backdrop(empty_booth(rgb), "any")
        assert found_backdrop(results) == name
        assert all(r.status is Status.PASS for r in results)


@pytest.mark.parametrize("gradient", [0.1, 0.15, 0.2])
def test_a_backdrop_the_technician_passes_never_fails_the_students(scenes, gradient):
    """The empty booth shows the whole backdrop, a photo only the part around the student:
    the technician's check is the stricter one, never the other way round."""
    tech = {r.id: r for r in check_backdrop(empty_booth((100, 197, 255), gradient=gradient), "any")}
    _, analysis, plan = scenes(face=FACE, backdrop="blue", gradient=gradient, **STANCE)
    photo = {r.id: r for r in run_checks(analysis, Config(), crop=plan,
                                         ids=["background.color", "background.uniform"])}
    for rule in photo:
        assert tech[rule].value >= photo[rule].value - 0.5, (rule, tech[rule], photo[rule])
        assert not (tech[rule].status is Status.PASS and photo[rule].status is Status.FAIL)
