"""Screenshots of the honest verdict: the review screen of a photo with points the checks could
not decide (unconfirmed, then confirmed by the student) and the contact sheet that marks it
"需人工复核 / needs a look" for the registrar.

    .venv/bin/python bench/review_screens.py [--out booth-screens]

The photo is real: the simulator's bareheaded student composed on the booth's backdrop and
built by the engine (check, crop, encode, seal, verify). The two undecided results
(attire.headwear and attire.jewelry ``unknown``) are constructed here, because the measures
answer ``unknown`` only on photos they cannot read, and this one they can: the screenshots
show what the booth does when they cannot. The review screen is drawn by the booth's own
screens (SDL's dummy driver), the contact sheet by headless Chromium.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("GLOG_minloglevel", "2")

SIZE = (1280, 800)


def unknown(rule: str):
    from kiosk.message import Message
    from kiosk.photo.checks.result import CheckResult, Status
    return CheckResult(rule, Status.UNKNOWN, None, "measured (this one made undecided on purpose)",
                       Message("无法判断", "Could not be decided"), severity=1.0)


def build(student, key):
    from kiosk.config import Config
    from kiosk.photo.analysis import Analyzer
    from kiosk.photo.engine import build_photo
    from kiosk.sim.scenes import compose_scene
    from kiosk.sim.simulator import BAREHEADED

    scene = compose_scene(BAREHEADED.face, "blue", roll_deg=BAREHEADED.roll_deg)
    with Analyzer() as analyzer:
        photo = build_photo(scene, student, config=Config(), analyzer=analyzer, key=key)
    if not photo.ok:
        sys.exit(f"the photo did not pass: {photo.problem}")
    return photo


def review_shots(photo, out: Path):
    """Draw the review screen before and after the student confirms; returns the SavePhoto."""
    import numpy as np
    import pygame

    from kiosk.booth.session import CONFIRM, CaptureDone, Digit, Session, State
    from kiosk.booth.ui import screens
    from kiosk.booth.ui.fonts import Fonts
    from kiosk.booth.ui.layout import make_layout
    from kiosk.config import SessionSettings
    from kiosk.photo.student import Student
    from kiosk.sim.simulator import DEMO_STUDENT

    me = Student(**DEMO_STUDENT)

    class Directory:
        def from_qr(self, data):
            return me

        def from_number(self, number):
            return me

    pygame.init()
    surface = pygame.display.set_mode(SIZE)
    layout, fonts = make_layout(SIZE), Fonts()
    session = Session(SessionSettings(), Directory())
    for event in (CONFIRM, Digit("2"), CONFIRM, CONFIRM, CONFIRM):
        session.handle(event, 1.0)
    session._start_countdown(2.0)
    session.tick(10.0)
    import cv2
    preview = cv2.cvtColor(cv2.imdecode(np.frombuffer(photo.jpeg, np.uint8), cv2.IMREAD_COLOR),
                           cv2.COLOR_BGR2RGB)
    session.handle(CaptureDone(photo, preview), 11.0)
    assert session.state is State.REVIEW and session.must_confirm

    def shot(name: str) -> None:
        model = screens.ScreenModel(session.data, now=12.0, retakes_left=session.retakes_left,
                                    can_accept=session.can_accept)
        screens.draw(surface, fonts, layout, model)
        pygame.image.save(surface, str(out / name))
        print(f"wrote {out / name}")

    shot("review_to_confirm.png")
    session.handle(CONFIRM, 12.0)            # the big button: "I confirm"
    shot("review_confirmed.png")
    [save] = session.handle(CONFIRM, 13.0)   # "use this photo"
    return me, save


def contact_sheet_shot(me, photo, save, key, out: Path, work: Path):
    from kiosk.handoff.export import export_pending
    from kiosk.handoff.export.stick import ProbedStatus
    from kiosk.handoff.spool import Spool, record_for
    from kiosk.photo.student import Student, id_check_char
    from kiosk.sim.simulator import DEMO_OTHERS

    spool = Spool(work / "state")
    spool.add(me, photo.jpeg, record_for(photo, confirmed=save.confirmed))
    # a second student whose photo passed cleanly, for contrast (the same real face)
    sid, name, first = DEMO_OTHERS[0]
    other = Student(student_id=sid, name=name, id_number=first[:17] + id_check_char(first[:17]))
    clean = build(other, key)
    spool.add(other, clean.jpeg, record_for(clean))
    usb = work / "usb"
    usb.mkdir()
    report = export_pending(spool, usb, booth_id="booth1", template="{id_number}.jpg",
                            status=ProbedStatus(True, str(usb), 10**9, False, "vfat"))
    assert report.ok, report.problem
    page = next(usb.rglob("index.html"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium: contact sheet not drawn", file=sys.stderr)
        return
    target = out / "contact_sheet_needs_look.png"
    profile = work / "profile"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={target}",
                    "--window-size=800,720", page.as_uri()],
                   capture_output=True, timeout=120, env={"HOME": str(profile)})
    print(f"wrote {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="booth-screens", help="folder for the PNGs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    from kiosk.photo.student import Student
    from kiosk.sim.simulator import DEMO_STUDENT
    real = build(Student(**DEMO_STUDENT), key)
    # the engine's real photo, with two of its results undecided (see the module docstring)
    undecided = {"attire.headwear", "attire.jewelry"}
    checks = [unknown(c.id) if c.id in undecided else c for c in real.capture_checks]
    photo = replace(real, capture_checks=checks)
    me, save = review_shots(photo, out)
    with tempfile.TemporaryDirectory() as work:
        contact_sheet_shot(me, photo, save, key, out, Path(work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
