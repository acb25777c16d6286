"""The two slow jobs of a visit, run on the jobs thread; each returns the event to post.

* `VisitJobs.burst`: capture lights, a short burst of stills, the checks on every frame, the
  best frame that passes (kiosk.booth.guidance.pick_best), and the photo built, sealed and verified
  by the engine (kiosk.photo.engine.build_photo). The preview stream pauses while the camera shoots.
* `VisitJobs.save`: the accepted photo into the durable spool first (nothing is lost, whatever
  the stick does), then the export to the USB stick. A missing, full or read-only stick is a
  message on the DONE screen, never an error: the photo waits in the spool and is exported
  when a stick is inserted (`export_when_inserted`).
* `VisitJobs.eject`: the registrar's "remove the USB stick safely": what waits in the spool is
  exported first, then the stick is flushed and unmounted (``hardware.usb.UsbStick.eject``).
  Whatever did not reach the stick stays in the spool; the outcome is a `StickEjected` event.
* `VisitJobs.stick_status`: is a stick there, how many photos wait for it (the attract screen).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable

from kiosk.booth import session as s
from kiosk.booth.guidance import Candidate, most_important, pick_best, plan_margin
from kiosk.booth.ui import texts
from kiosk.booth.workers import camera_message
from kiosk.message import Message

log = logging.getLogger(__name__)

MSG_MOVED = Message("拍照时请保持不动，我们再试一次", "Please hold still during the photo: let's try again")
MSG_KEPT = Message("照片已安全保存在本机，插入U盘后将自动导出",
                   "Your photo is kept safely in the booth and will be exported when a USB stick is inserted")
MSG_SPOOL_FAILED = Message("照片无法保存到本机存储，请联系工作人员",
                           "The photo could not be stored in the booth: please ask the staff for help")


def msg_saved(name: str) -> Message:
    # the name on its own line: a file name is never broken in the middle
    return Message(f"照片已保存到U盘：\n{name}", f"Saved to the USB stick:\n{name}")


def shown_name(path: str, student=None) -> str:
    """The file's name as the screen shows it: an ID number in it is masked like on the
    confirm screen (people queue behind the student)."""
    from kiosk.photo.student import mask_id_number

    name = Path(path).name
    numbers = {getattr(student, "id_number", "")} if student is not None else set()
    numbers.update(re.findall(r"\d{17}[\dXx]", name))          # an ID number in the template
    for number in filter(None, numbers):
        name = name.replace(number, mask_id_number(number))
    return name


class VisitJobs:
    """Burst and save for the booth's loop. Not thread-safe: only the jobs thread calls it."""

    def __init__(self, config, devices, feed, *, key: bytes, spool,
                 analyzer_factory: Callable[[], Any] | None = None) -> None:
        self.config = config
        self.devices = devices
        self.feed = feed
        self.key = key
        self.spool = spool
        self.analyzer_factory = analyzer_factory
        self._analyzer = None

    def analyzer(self):
        """This thread's own Analyzer (still images: no tracking between frames)."""
        if self._analyzer is None:
            if self.analyzer_factory is not None:
                self._analyzer = self.analyzer_factory()
            else:
                from kiosk.photo.analysis import Analyzer

                self._analyzer = Analyzer()
        return self._analyzer

    def close(self) -> None:
        if self._analyzer is not None and hasattr(self._analyzer, "close"):
            self._analyzer.close()
        self._analyzer = None

    # --- the burst -------------------------------------------------------------------------
    def shoot(self) -> list:
        """The stills of the burst, at capture light level; the preview pauses meanwhile."""
        cfg = self.config
        camera, lights = self.devices.camera, self.devices.lights
        self.feed.pause()
        try:
            with self.feed.lock:
                if lights is not None:
                    lights.set_mode("capture")
                try:
                    return camera.capture_burst(cfg.session.burst_frames,
                                                timeout=cfg.devices.capture_timeout_s)
                finally:
                    if lights is not None:
                        lights.set_mode("preview")
        finally:
            self.feed.resume()

    def burst(self, student) -> Any:
        """CaptureDone with the verified photo, CaptureFailed (nobody held still), or Failure."""
        from kiosk.photo.engine import build_photo, judge_still

        try:
            stills = self.shoot()
        except Exception as exc:             # CameraError (timeout, gone) or a driver error
            log.error("burst failed: %s", exc)
            return s.Failure(camera_message(exc))
        analyzer = self.analyzer()
        # every still judged once; the chosen one's analysis, plan and checks go to the build
        judged = [judge_still(rgb, config=self.config, analyzer=analyzer) for rgb in stills]
        candidates = [Candidate(i, j.checks, bool(j.plan.ok), plan_margin(j.plan))
                      for i, j in enumerate(judged)]
        plans = [j.plan for j in judged]
        best = pick_best(candidates)
        if best is None:
            first = plans[0] if plans else None
            hint = most_important(candidates[0].results if candidates else [],
                                  None if first is None or first.ok else first.problem)
            log.info("no frame of the burst passes (%s)", hint.id if hint else "no frames")
            return s.CaptureFailed(MSG_MOVED)
        photo = build_photo(stills[best.index], student, config=self.config, analyzer=analyzer,
                            key=self.key, judged=judged[best.index])
        log.info("burst: frame %d of %d chosen; photo %s", best.index + 1, len(stills),
                 getattr(photo.verdict, "value", photo.verdict))
        return s.CaptureDone(photo)

    # --- saving --------------------------------------------------------------------------------
    def save(self, student, photo, confirmed=()) -> Any:
        """SaveDone (on the stick, or kept in the spool with the stick's problem) or SaveFailed.
        ``confirmed``: what the student confirmed on the review screen, recorded with the photo."""
        from kiosk.handoff.spool import SpoolError, record_for

        try:
            item_id = self.spool.add(student, photo.jpeg, record_for(photo, confirmed=confirmed))
        except (SpoolError, OSError) as exc:
            log.error("spool failed: %s", exc)
            return s.SaveFailed(MSG_SPOOL_FAILED)
        report = self.export()
        done = next((e for e in report.exported if e.item_id == item_id), None)
        if done is not None:
            return s.SaveDone(True, msg_saved(shown_name(done.path, student)), path=done.path,
                              item_id=item_id)
        return s.SaveDone(False, report.message if report.problem else MSG_KEPT, item_id=item_id)

    def export(self):
        """Export every pending spool item to the stick (an ExportReport; problem = why not)."""
        from kiosk.handoff.export.exporter import ExportReport, export_to_stick
        from kiosk.handoff.export.stick import MSG_MISSING

        if self.devices.usb is None:
            return ExportReport(problem=MSG_MISSING, pending=len(self.spool.pending()))
        return export_to_stick(self.spool, self.devices.usb, self.config)

    def export_when_inserted(self) -> s.StickExported | None:
        """A stick appeared (or the booth started): send it what waited in the spool. The
        result goes to the loop, so a DONE screen that said "kept in the booth" can say where
        the photo is now."""
        if not self.spool.pending():
            return None
        report = self.export()
        items = tuple(s.SaveDone(True, msg_saved(shown_name(e.path)), path=e.path,
                                 item_id=e.item_id) for e in report.exported)
        return s.StickExported(items, report.problem)

    # --- the registrar's stick ---------------------------------------------------------------
    def _stick_present(self) -> bool:
        usb = self.devices.usb
        if usb is None:
            return False
        try:
            return bool(usb.status().present)
        except Exception:                     # a driver that cannot look: treat as absent
            log.exception("USB status failed")
            return False

    def stick_status(self) -> s.StickStatus | None:
        """Is a stick mounted, and how many photos wait in the spool for one. None when the
        spool cannot be read (logged): a status line is never worth the failsafe screen."""
        try:
            pending = len(self.spool.pending())
        except Exception:
            log.exception("spool not readable for the stick status")
            return None
        return s.StickStatus(self._stick_present(), pending)

    def eject(self) -> s.StickEjected:
        """Export what waits, then flush and unmount the stick. Never raises: every outcome is
        a message for the attract screen, and the spool keeps whatever is not on the stick."""
        usb = self.devices.usb
        if not self._stick_present():
            return s.StickEjected(False, texts.STICK_MISSING, False, len(self.spool.pending()))
        if self.spool.pending():
            try:
                report = self.export()
                log.info("before eject: %d exported%s", len(report.exported),
                         f", stopped: {report.problem.en}" if report.problem else "")
            except Exception:                 # the exporter reports its problems; belt and braces
                log.exception("export before eject failed")
        try:
            ok: bool | None = bool(usb.eject())       # os.sync(), then unmount
        except Exception:
            log.exception("eject failed")
            ok = None
        pending = len(self.spool.pending())
        present = self._stick_present()
        if ok and present:
            log.error("the stick reported ejected but is still mounted")
            ok = False
        if ok:
            log.info("stick ejected; %d photos stay in the spool", pending)
            return s.StickEjected(True, texts.stick_ejected(pending), False, pending)
        message = texts.STICK_BUSY if ok is False else texts.STICK_EJECT_FAILED
        log.warning("stick not ejected (%s); %d photos in the spool", message.en, pending)
        return s.StickEjected(False, message, present, pending)
