"""An honest verdict on the booth: a hard rule the checks could not decide is confirmed by the
student on the review screen, recorded with the photo, and flagged "needs a look" for the
registrar; the screen never says 符合标准 meanwhile; a failing hard rule is never confirmable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pygame
from booth_support import LI, Directory

from kiosk.booth import session as s
from kiosk.booth.session import CONFIRM, CaptureDone, Session, State
from kiosk.booth.ui import screens, texts
from kiosk.booth.ui.fonts import find_cjk_font, has_glyphs
from kiosk.booth.ui.layout import make_layout
from kiosk.config import Config, SessionSettings
from kiosk.message import Message
from kiosk.photo.checks.confirm import CONFIRM_LINES, HEAD_COVERING, HEAD_COVERING_LINE, apply_allowances
from kiosk.photo.checks.result import CheckResult, Status, verdict

WHEN = datetime(2026, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
MSG = Message("无法判断", "Could not be decided")


def unknown(rule: str) -> CheckResult:
    return CheckResult(rule, Status.UNKNOWN, None, "measured", MSG, severity=1.0)


def passing(rule: str) -> CheckResult:
    return CheckResult(rule, Status.PASS, 1.0, "x", Message("符合要求", "Looks good"))


@dataclass
class Photo:
    """What the review screen needs of the engine's PhotoResult."""
    checks: tuple
    ok: bool = True
    jpeg: bytes | None = None
    student: object = None

    @property
    def verdict(self) -> Status:
        return verdict(self.checks)


UNDECIDED = (passing("pose.yaw"), unknown("attire.headwear"), unknown("attire.jewelry"),
             passing("background.color"))


def at_review(checks, *, ok: bool = True) -> Session:
    session = Session(SessionSettings(), Directory(), wall_clock=lambda: WHEN)
    session.handle(CONFIRM, 1.0)
    session.handle(s.Digit("2"), 1.0)
    for _ in range(3):
        session.handle(CONFIRM, 1.0)
    assert session.state is State.GUIDANCE
    session._start_countdown(2.0)
    session.tick(10.0)
    session.handle(CaptureDone(Photo(tuple(checks), ok=ok), np.full((640, 480, 3), 90, np.uint8)), 11.0)
    assert session.state is State.REVIEW
    return session


def test_unknown_is_a_verdict_of_its_own_and_a_fail_is_not_confirmable():
    assert verdict(UNDECIDED) is Status.UNKNOWN
    assert verdict(UNDECIDED, ["attire.headwear"]) is Status.UNKNOWN
    assert verdict(UNDECIDED, ["attire.headwear", "attire.jewelry"]) is Status.WARN   # needs a look
    failed = CheckResult("attire.headwear", Status.FAIL, 1.0, "x", MSG, severity=1.0)
    assert failed.blocking and not failed.needs_confirmation
    assert verdict([failed], ["attire.headwear"]) is Status.FAIL
    # an unknown layout cannot be vouched for by anyone: it blocks
    assert unknown("layout.eyes").blocking and not unknown("layout.eyes").needs_confirmation


def test_review_asks_for_confirmation_records_it_and_only_then_saves():
    session = at_review(UNDECIDED)
    assert session.must_confirm and not session.can_accept
    assert [c.id for c in session.pending_confirmations] == ["attire.headwear", "attire.jewelry"]
    assert session.handle(CONFIRM, 12.0) == []                  # the first press confirms
    assert session.state is State.REVIEW and session.can_accept and not session.must_confirm
    confirmed = session.data.confirmed
    assert set(confirmed) == {"attire.headwear", "attire.jewelry"}
    assert confirmed["attire.headwear"]["at"] == "2026-06-01T09:30:00+08:00"
    assert confirmed["attire.jewelry"]["en"] == CONFIRM_LINES["attire.jewelry"].en
    [save] = session.handle(CONFIRM, 13.0)                      # the second saves
    assert isinstance(save, s.SavePhoto) and session.state is State.SAVE
    assert {c["id"] for c in save.confirmed} == {"attire.headwear", "attire.jewelry"}


def test_a_retake_forgets_the_confirmations():
    session = at_review(UNDECIDED)
    session.handle(CONFIRM, 12.0)
    session.handle(s.BACK, 13.0)                                # retake
    assert session.state is State.GUIDANCE and session.data.confirmed == {}


def test_a_failed_hard_rule_offers_no_confirmation():
    failed = (CheckResult("attire.headwear", Status.FAIL, 0.9, "x",
                          Message("请摘下帽子", "Please take off your hat"), severity=1.0),)
    session = at_review(failed, ok=False)
    assert not session.must_confirm and not session.can_accept
    assert session.data.to_confirm == ()
    session.handle(CONFIRM, 12.0)
    assert session.state is State.REVIEW and session.data.confirmed == {}


def test_head_covering_allowance_turns_a_fail_into_a_recorded_exception():
    failed = CheckResult("attire.headwear", Status.FAIL, 0.9, "cap edge ≤ 0.5",
                         Message("请摘下帽子", "Please take off your hat"), severity=0.4)
    config = Config()
    assert apply_allowances([failed], config) == [failed]             # not allowed: a fail
    config.booth.allow_head_covering = True
    [r] = apply_allowances([failed], config)
    assert r.status is Status.UNKNOWN and r.needs_confirmation and r.found == HEAD_COVERING
    assert verdict([r]) is Status.UNKNOWN                             # never a silent pass
    session = at_review((r,))
    session.handle(CONFIRM, 12.0)
    rec = session.data.confirmed["attire.headwear"]
    assert rec["exception"] == HEAD_COVERING and rec["zh"] == HEAD_COVERING_LINE.zh


# --- the review screen ---------------------------------------------------------------------------

def drawn_texts(monkeypatch, session) -> list[Message]:
    """Every bilingual text the review screen draws (recorded at the drawing call)."""
    pygame.init()
    seen: list[Message] = []
    real = screens.bilingual

    def spy(surface, fonts, message, *a, **kw):
        seen.append(message)
        return real(surface, fonts, message, *a, **kw)

    monkeypatch.setattr(screens, "bilingual", spy)
    layout = make_layout((1280, 800))
    surface = pygame.Surface((1280, 800))
    model = screens.ScreenModel(session.data, now=12.0, retakes_left=session.retakes_left,
                                can_accept=session.can_accept)
    from kiosk.booth.ui.fonts import Fonts
    screens.draw(surface, Fonts(), layout, model)
    return seen, screens.buttons(model, layout)


def test_review_screen_lists_each_point_and_never_says_meets_the_standard(monkeypatch):
    session = at_review(UNDECIDED)
    seen, buttons = drawn_texts(monkeypatch, session)
    zh = [m.zh for m in seen]
    assert texts.PASSED.zh not in zh and texts.WARNED.zh not in zh
    assert texts.PLEASE_CONFIRM.zh in zh
    assert "□ " + CONFIRM_LINES["attire.headwear"].zh in zh
    assert "□ " + CONFIRM_LINES["attire.jewelry"].en in [m.en for m in seen]
    assert [(b.event, b.label) for b in buttons if b.event == "confirm"] == [("confirm", texts.I_CONFIRM)]
    session.handle(CONFIRM, 12.0)
    seen, buttons = drawn_texts(monkeypatch, session)
    zh = [m.zh for m in seen]
    assert texts.PASSED.zh not in zh and texts.WARNED.zh not in zh    # confirmed: still not
    assert texts.CONFIRMED_LOOK.zh in zh
    assert "✓ " + CONFIRM_LINES["attire.headwear"].zh in zh
    assert [(b.event, b.label) for b in buttons if b.event == "confirm"] == [("confirm", texts.ACCEPT)]


def test_a_clean_photo_still_meets_the_standard(monkeypatch):
    session = at_review((passing("pose.yaw"), passing("attire.headwear")))
    seen, _ = drawn_texts(monkeypatch, session)
    assert texts.PASSED.zh in [m.zh for m in seen]


def test_every_confirmation_line_has_real_glyphs():
    font = find_cjk_font()
    lines = [*CONFIRM_LINES.values(), HEAD_COVERING_LINE, texts.PLEASE_CONFIRM, texts.CANNOT_CHECK,
             texts.I_CONFIRM, texts.CONFIRMED_LOOK]
    text = "".join(m.zh + m.en for m in lines) + "□✓"
    assert sorted({ch for ch in text if not has_glyphs(font.path, font.index, ch)}) == []


# --- recorded in the spool and the manifests -------------------------------------------------------

def test_confirmation_lands_in_spool_manifest_and_contact_sheet(tmp_path, capsys):
    from kiosk.handoff.export import export_pending
    from kiosk.handoff.export.stick import ProbedStatus
    from kiosk.handoff.spool import Spool, record_for

    session = at_review(UNDECIDED)
    session.handle(CONFIRM, 12.0)
    [save] = session.handle(CONFIRM, 13.0)
    spool = Spool(tmp_path / "state")
    found = CheckResult("background.color", Status.PASS, 0.1, "x", MSG, found="white")
    photo = Photo(UNDECIDED + (found,))
    record = record_for(photo, confirmed=save.confirmed)
    assert record["verdict"] == "warn"                       # handed over, with a look
    assert record["backdrop"] == "white"
    from kiosk.photo.engine import encode_and_seal
    from kiosk.sim.scenes import compose_scene
    key = bytes(range(32))
    sealed, _ = encode_and_seal(compose_scene("hopper", "white", size=(480, 640)), LI, key=key)
    keyfile = tmp_path / "registrar.key"
    keyfile.write_text(key.hex() + "\n")
    keyfile.chmod(0o600)
    item = spool.add(LI, sealed, record)
    on_card = json.loads((spool.items_dir / item / "record.json").read_text("utf-8"))
    assert {c["id"] for c in on_card["record"]["confirmed"]} == {"attire.headwear", "attire.jewelry"}
    usb = tmp_path / "usb"
    usb.mkdir()
    assert export_pending(spool, usb, booth_id="booth1", template="{id_number}.jpg",
                          status=ProbedStatus(True, str(usb), 10**9, False, "vfat")).ok
    doc = json.loads(next(usb.rglob("manifest.json")).read_text("utf-8"))
    [entry] = doc["photos"]
    assert entry["backdrop"] == "white"
    assert [c["at"] for c in entry["confirmed"]] == ["2026-06-01T09:30:00+08:00"] * 2
    csv_text = next(usb.rglob("manifest.csv")).read_text("utf-8-sig")
    assert "需人工复核 needs a look: attire.headwear: 学生确认 confirmed by the student" in csv_text
    assert "白色 white" in csv_text
    page = next(usb.rglob("index.html")).read_text("utf-8")
    assert "需人工复核 Needs a look" in page and 'class="card look"' in page
    assert CONFIRM_LINES["attire.jewelry"].zh in page and "背景 backdrop: 白色 white" in page
    # the registrar's verify reports it (a warning, with the reasons), and a merge keeps it
    from kiosk.cli import main
    assert main(["registrar", "verify", str(usb), "--no-image-checks", "--key", str(keyfile)]) == 0
    out = capsys.readouterr().out
    assert "需人工复核" in out and "? 2026010727: 需人工复核 needs a look: attire.headwear" in out
    assert main(["registrar", "verify", str(usb), "--no-image-checks", "--key", str(keyfile),
                 "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["status"] == "warn" and row["backdrop"] == "white"
    assert [w.split(":")[0] for w in row["needs_look"]] == ["attire.headwear", "attire.jewelry"]
    assert main(["registrar", "merge", str(usb), "--out", str(tmp_path / "batch")]) == 0
    [merged] = json.loads(next((tmp_path / "batch").rglob("manifest.json")).read_text("utf-8"))["photos"]
    assert merged["confirmed"] == entry["confirmed"] and merged["backdrop"] == "white"
    # a damaged manifest.json: the CSV still carries the flag and the backdrop
    next(usb.rglob("manifest.json")).write_text("{broken", encoding="utf-8")
    from kiosk.handoff.export import manifest as mf
    recovered, problems = mf.load(next(usb.rglob("manifest.csv")).parent)
    [again] = recovered.entries.values()
    assert again.backdrop == "white" and [w.split(":")[0] for w in again.needs_look] == \
        ["attire.headwear", "attire.jewelry"]
