"""The contact sheet (index.html) as the registrar sees it: escaped, offline, and rendered by a
real browser (headless Chromium) with every thumbnail and the Chinese text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from handoff_fixtures import make_student, photo_jpeg, record
from PIL import Image

from kiosk.handoff.export import export_pending
from kiosk.handoff.export.stick import ProbedStatus
from kiosk.handoff.spool import Spool
from kiosk.photo.student import Student

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def make_export(tmp: Path, n: int = 6) -> Path:
    spool = Spool(tmp / "state")
    people = [make_student(60 + i, name=name) for i, name in
              enumerate(["张伟", "王芳", "李娜", "刘洋", "欧阳·娜娜", "陈静"][:n])]
    for i, s in enumerate(people):
        warn = ("lighting.symmetry",) if i in (1, 4) else ()
        spool.add(s, photo_jpeg(i), record("warn" if warn else "pass", warn))
    usb = tmp / "usb"
    usb.mkdir()
    assert export_pending(spool, usb, booth_id="booth1", template="{id_number}.jpg",
                          status=ProbedStatus(True, str(usb), 10**9, False, "vfat")).ok
    return next(usb.rglob("index.html"))


def test_everything_is_escaped_and_offline(tmp_path):
    spool = Spool(tmp_path / "state")
    evil = Student(student_id="2020000099", id_number=make_student(99).id_number,
                   name='<img src=x onerror="alert(1)">', college="<script>x</script>")
    spool.add(evil, photo_jpeg(), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    export_pending(spool, usb, booth_id="b<1>", template="{student_id}.jpg",
                   status=ProbedStatus(True, str(usb), 10**9, False, "vfat"))
    page = next(usb.rglob("index.html")).read_text("utf-8")
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "default-src 'none'" in page                  # the page may load nothing at all
    for banned in ("<script", "<link", "http://", "https://", "@import", "url("):
        assert banned not in page


def thumbnails_found(png: Path, page: Path) -> list[tuple[float, tuple[int, int]]]:
    """For each thumbnail embedded in the page: how well, and where, it appears on screen."""
    import base64
    import io
    import re

    import cv2
    screen = np.asarray(Image.open(png).convert("L"))
    found = []
    for b64 in re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page.read_text("utf-8")):
        thumb = np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("L"))
        scores = cv2.matchTemplate(screen, thumb, cv2.TM_CCOEFF_NORMED)
        _, best, _, where = cv2.minMaxLoc(scores)
        found.append((best, where))
    return found


def suit_pixels(png: Path) -> int:
    """Pixels of the astronaut's orange suit: there is one suit per thumbnail."""
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > 170) & (g > 50) & (g < 140) & (b < 90)).sum())


def screenshot(page: Path, out: Path, profile: Path) -> None:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={out}",
           "--window-size=1200,1600", page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=90, env={"HOME": str(profile)})


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_shows_every_thumbnail_and_chinese_text(tmp_path):
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    if not fonts.stdout.strip():
        pytest.skip("no Chinese font installed (fonts-wqy-microhei)")
    page = make_export(tmp_path, 6)
    shot = tmp_path / "sheet.png"
    screenshot(page, shot, tmp_path / "profile")
    assert shot.exists() and shot.stat().st_size > 10_000
    im = Image.open(shot)
    assert im.size == (1200, 1600)
    grey = np.asarray(im.convert("L"))
    assert grey.std() > 20                                    # not blank
    one = make_export(tmp_path / "one", 1)
    shot_one = tmp_path / "one.png"
    screenshot(one, shot_one, tmp_path / "profile-one")
    per_thumb = suit_pixels(shot_one)
    assert per_thumb > 500                                    # the thumbnail was drawn
    found = thumbnails_found(shot, page)
    assert len(found) == 6
    assert all(score > 0.95 for score, _ in found), found     # every thumbnail drawn, 1:1
    assert len({where for _, where in found}) == 6            # each in its own place
    assert suit_pixels(shot) > 4 * per_thumb
    # warning cards are highlighted in amber: present in the page with warnings
    rgb = np.asarray(im.convert("RGB")).astype(int)
    amber = ((abs(rgb[..., 0] - 0xff) < 4) & (abs(rgb[..., 1] - 0xf4) < 4)
             & (abs(rgb[..., 2] - 0xdc) < 4)).sum()
    assert amber > 10_000


def _name_card_screenshot(tmp: Path, name: str, env: dict | None = None) -> np.ndarray:
    """One card of the contact sheet whose only variable text is ``name``, as Chromium draws it."""
    from kiosk.handoff.export import contact_sheet
    from kiosk.handoff.export.manifest import Entry
    s = make_student(70)
    entry = Entry(student_id=s.student_id, name=name, id_number=s.id_number, college="",
                  class_name="", file="missing.jpg", captured_at="2026-06-01T09:00:00+08:00",
                  verdict="pass", sha256="0" * 64, size=0, booth_id="b1")
    folder = tmp / f"sheet-{len(list(tmp.glob('sheet-*')))}"
    folder.mkdir()
    page = folder / "index.html"
    page.write_bytes(contact_sheet.render([entry], folder, title="Graduation photos",
                                          subtitle="2026-06-01", thumbs={}))
    shot = folder / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={folder / 'profile'}", f"--screenshot={shot}",
           "--window-size=400,400", page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=90,
                   env={"HOME": str(folder / "profile"), **(env or {})})
    return np.asarray(Image.open(shot).convert("L")).astype(int)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chinese_names_are_drawn_as_glyphs_not_boxes(tmp_path):
    """A missing CJK font draws every character as the same empty box: then two different
    names, and a name and characters no font has (private use area), would look alike."""
    zhang = _name_card_screenshot(tmp_path, "张伟")
    wang = _name_card_screenshot(tmp_path, "王芳")
    boxes = _name_card_screenshot(tmp_path, "\ue000\ue001")   # what a missing glyph looks like

    def differing(a, b):
        return int((np.abs(a - b) > 60).sum())
    assert differing(zhang, wang) > 40, "two different Chinese names drawn the same"
    assert differing(zhang, boxes) > 40, "Chinese drawn like characters no font has"
