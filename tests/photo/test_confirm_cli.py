"""``kiosk make`` never hands over a photo on an undecided rule unless someone says they looked
(``--confirm RULE``); ``kiosk check`` reports it as ``unknown`` and exits 1.

The undecided answer is made here: the real attire.headwear check is replaced, for this test
only, by one that answers ``unknown`` (what a measure says when it cannot read a photo)."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from test_cli import ID, MAKE_ARGS

from kiosk.cli import main
from kiosk.message import Message
from kiosk.photo import checks
from kiosk.photo.checks.result import CONFIRMABLE_IDS, CheckResult, Status
from kiosk.sim.scenes import compose_scene
from kiosk.sim.simulator import BAREHEADED


@pytest.fixture
def undecided_headwear(monkeypatch):
    def headwear(ctx):
        return CheckResult("attire.headwear", Status.UNKNOWN, None, "measured",
                           Message("无法判断是否戴帽子", "Could not tell whether there is a hat"),
                           severity=1.0)
    monkeypatch.setitem(checks.REGISTRY, "attire.headwear", headwear)


def test_make_needs_a_confirmation_for_an_undecided_rule(tmp_path, capsys, undecided_headwear,
                                                         monkeypatch):
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "none.toml"))
    png = tmp_path / "scene.png"
    Image.fromarray(compose_scene(BAREHEADED.face, "blue", roll_deg=BAREHEADED.roll_deg)).save(png)
    assert main(["keygen", str(tmp_path / "k")]) == 0
    capsys.readouterr()
    assert main(["check", str(png), "--json"]) == 1
    [obj] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert obj["verdict"] == "unknown"
    out = tmp_path / "out"
    assert main(["make", str(png), *MAKE_ARGS, "--out", str(out), "--key", str(tmp_path / "k"),
                 "--json"]) == 1
    [obj] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert obj["output"] is None and "attire.headwear" in obj["problem"]["en"]
    assert not (out / f"{ID}.jpg").exists()
    others = [a for rule in sorted(CONFIRMABLE_IDS - {"attire.headwear"}) for a in ("--confirm", rule)]
    assert main(["make", str(png), *MAKE_ARGS, "--out", str(out), "--key", str(tmp_path / "k"),
                 *others, "--json"]) == 1         # the others confirmed, the hat not: no file
    capsys.readouterr()
    assert not (out / f"{ID}.jpg").exists()
    assert main(["make", str(png), *MAKE_ARGS, "--out", str(out), "--key", str(tmp_path / "k"),
                 "--confirm", "attire.headwear", *others, "--json"]) == 0
    [obj] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (out / f"{ID}.jpg").is_file() and "attire.headwear" in obj["confirmed"]
    assert obj["verdict"] == "warn"                 # handed over, never a clean pass
