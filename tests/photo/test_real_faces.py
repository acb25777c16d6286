"""The head rules, pitch and gaze on labelled photographs of real people (tests/data/faces.json).

Each face is composed into a booth capture (kiosk.sim.scenes) and judged in the crop the booth
would save, once per session. The labels were set by eye. Properties over the whole selection
(a rule never passes a face that breaks it, never fails one that keeps it) and named cases
(Grace Hopper's officer's cap fails, a man looking down fails pose.pitch...). The dataset is
fetched by ``make setup``; without it these tests FAIL (they never skip).
"""

from __future__ import annotations

import statistics

import pytest

from kiosk.config import Config
from kiosk.photo.checks import run_checks
from kiosk.photo.checks.result import Status
from kiosk.sim import faces

#: The faces judged here (a selection keeps the suite quick; bench/calibrate_checks.py runs all).
SELECTION = (
    "grace-hopper", "eileen-collins", "obama", "connery", "cage", "franck-front", "franck-down",
    "pyfeat-f1", "pyfeat-f15", "pyfeat-single", "pyfeat-m7", "pyfeat-group-curly",
    "pyfeat-group-blonde", "pyfeat-group-brunette", "realesrgan-woman", "tracking-middle",
    "tracking-right", "queen", "kim", "bieber", "vlad-s1-down", "vlad-s2-fringe", "vlad-s2-choker",
)
HEAD_RULES = ("attire.headwear", "occlusion.hair", "attire.jewelry")


def _labels() -> dict[str, dict]:
    labels = faces.labels()
    missing = [f for f in SELECTION if f not in labels]
    if missing:
        pytest.fail(f"labelled faces missing ({faces.LABELS}: {missing}): run `make setup` "
                    "(tools/fetch-faces) to fetch the photographs", pytrace=False)
    return labels


class Judged:
    """compose → analyse → crop → all checks, once per face (and per derived variation)."""

    def __init__(self, analyzer) -> None:
        self.analyzer = analyzer
        self.cache: dict = {}

    def __call__(self, face: str, **derived):
        key = (face, tuple(sorted(derived.items())))
        if key not in self.cache:
            from kiosk.photo.crop import plan_crop
            from kiosk.sim.scenes import compose_scene
            try:
                rgb = compose_scene(face, "blue", **derived)
            except faces.FaceMissing as e:
                pytest.fail(f"{e}: run `make setup`", pytrace=False)
            analysis = self.analyzer.analyze(rgb)
            plan = plan_crop(analysis)
            cfg = Config()
            cfg.booth.backdrop = "blue"
            results = {r.id: r for r in run_checks(analysis, cfg, crop=plan if plan.box else None)}
            self.cache[key] = (analysis, results)
        return self.cache[key]


@pytest.fixture(scope="session")
def judged(analyzer) -> Judged:
    _labels()
    return Judged(analyzer)


def _bad(rule: str, label: dict) -> bool:
    if rule == "attire.headwear":
        return label["headwear"] != "none"
    if rule == "attire.jewelry":
        return bool(label["earrings"] or label["necklace"])
    return bool(label["hair_over_brows"] or label.get("hair_over_eyes") or label["ears_visible"] != "both")


def test_dataset_has_ten_identities_and_the_problems():
    labels = _labels()
    assert len({r["identity"] for r in labels.values()}) >= 10
    chosen = [labels[f] for f in SELECTION]
    assert any(r["headwear"] != "none" for r in chosen) and any(r["earrings"] for r in chosen)
    assert any(r["hair_over_brows"] for r in chosen) and any(r["pose"] == "down" for r in chosen)


# --- properties over the selection: never a pass on a broken face, never a fail on a good one --

@pytest.mark.parametrize("rule", HEAD_RULES)
@pytest.mark.parametrize("face", SELECTION)
def test_head_rule_never_passes_a_problem_nor_fails_a_clean_face(judged, face, rule):
    label = _labels()[face]
    _, results = judged(face)
    r = results[rule]
    assert r.status != Status.WARN and (r.blocking or r.status != Status.FAIL), r   # hard rules
    if _bad(rule, label):
        assert r.status != Status.PASS, (face, r)
    else:
        assert r.status != Status.FAIL, (face, r)
    if r.status == Status.UNKNOWN:                               # what it measured, for the record
        assert r.value is not None and r.limit and r.message.en


# --- named cases ----------------------------------------------------------------------------

def test_officers_cap_fails_headwear(judged):
    _, results = judged("grace-hopper")
    r = results["attire.headwear"]
    assert r.status == Status.FAIL and r.blocking and "hat" in r.message.en.lower()
    assert r.value >= Config().thresholds.headwear_fail_contrast and "fail" in r.limit


def test_bareheaded_people_pass_headwear(judged):
    bare = ("obama", "pyfeat-f1", "pyfeat-f15", "eileen-collins", "tracking-middle", "cage")
    statuses = {f: judged(f)[1]["attire.headwear"].status for f in bare}
    assert all(s == Status.PASS for s in statuses.values()), statuses


def test_ears_covered_by_hair_fail(judged):
    # long hair over both ears (labelled: ears not visible)
    for face in ("pyfeat-f1", "pyfeat-f15", "realesrgan-woman", "eileen-collins"):
        r = judged(face)[1]["occlusion.hair"]
        assert r.status == Status.FAIL, (face, r)
        assert "ears" in r.message.en


def test_hair_over_the_brows_fails(judged):
    # a real fringe over the brows (and ears): the boy with curls
    assert judged("pyfeat-group-curly")[1]["occlusion.hair"].status == Status.FAIL
    # derived: the person's own hair moved over the brows (an extra negative, labelled derived)
    # (a thin fringe that leaves skin between the hairs is unknown: obama's derived one 0.49)
    for face in ("cage", "queen", "kim"):
        clean = judged(face)[1]["occlusion.hair"]
        fringe = judged(face, fringe=True)[1]["occlusion.hair"]
        assert clean.status != Status.FAIL and fringe.status == Status.FAIL, (face, clean, fringe)


def test_jewellery_is_never_passed_unseen(judged):
    # earrings (the Queen's pearls, Kim Kardashian's drops, a stud) and necklaces: the measure
    # cannot see them reliably, so the student is asked; it never claims there are none
    for face in ("queen", "kim", "bieber", "pyfeat-group-brunette", "pyfeat-group-blonde"):
        r = judged(face)[1]["attire.jewelry"]
        assert r.status in (Status.UNKNOWN, Status.FAIL) and r.message.en, (face, r)
    r = judged("obama", earrings=True)[1]["attire.jewelry"]
    assert r.status != Status.PASS


def test_frontal_pitch_is_level(judged):
    labels = _labels()
    frontal = [judged(f)[0].face.pitch for f in SELECTION if labels[f]["pose"] == "frontal"]
    assert len(frontal) >= 10
    assert abs(statistics.median(frontal)) <= 1.5, sorted(frontal)
    assert abs(judged("obama")[0].face.pitch) <= 3.0         # the official portrait
    assert judged("obama")[1]["pose.pitch"].status == Status.PASS


@pytest.mark.parametrize("face", ("vlad-s1-down", "vlad-s2-fringe", "vlad-s2-choker"))
def test_looking_down_fails_pitch(judged, face):
    assert _labels()[face]["pose"] == "down"
    r = judged(face)[1]["pose.pitch"]
    assert r.status == Status.FAIL and r.value < -8 and "Raise your chin" in r.message.en


def test_looking_sideways_fails_gaze(judged):
    assert _labels()["pyfeat-m7"]["gaze"] == "away"
    r = judged("pyfeat-m7")[1]["eyes.gaze"]
    assert r.status == Status.FAIL and r.value > Config().thresholds.gaze_max_offset, r


@pytest.mark.parametrize("face", ("vlad-s1-down", "vlad-s2-fringe", "franck-down"))
def test_looking_down_never_passes_gaze(judged, face):
    # eyes lowered toward the floor: the lids close over the iris, so the gaze is not measured
    # (unknown, which blocks a hard rule) — never a pass
    assert _labels()[face]["gaze"] == "away"
    r = judged(face)[1]["eyes.gaze"]
    assert r.status in (Status.FAIL, Status.UNKNOWN) and r.blocking, r


def test_head_rules_unknown_when_the_head_is_turned(judged):
    # the regions are placed for a head facing the camera: a 43° turn is not judged
    _, results = judged("pyfeat-m7")
    assert abs(judged("pyfeat-m7")[0].face.yaw) > 30
    for rule in HEAD_RULES:
        assert results[rule].status == Status.UNKNOWN and "turned" in results[rule].value
