"""Who is who at the booth: the registrar's roster and the QR payload formats, as the state
machine's `kiosk.booth.session.Directory` (a Student, or `LookupFailed` with a bilingual
message shown on the identify screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.booth.session import LookupFailed
from kiosk.config import Config
from kiosk.message import Message

if TYPE_CHECKING:
    from kiosk.handoff.roster import Roster
    from kiosk.photo.student import Student

MSG_NO_ROSTER = Message("名单未加载，请联系工作人员", "The roster is not loaded: please ask the staff")


def msg_not_on_roster(number: str) -> Message:
    return Message(f"名单中没有学号 {number}，请检查后重新输入",
                   f"Student number {number} is not on the roster: please check and type it again")


class RosterDirectory:
    """`kiosk.booth.session.Directory` over the registrar's roster and the QR payload formats.

    ``formats`` and ``max_bytes`` are the QR codes the booth accepts (``config.export``
    ``qr_formats``, ``qr_max_bytes``); ``student_id_pattern`` the school's student numbers
    (``config.students``; empty: kiosk.photo.student's default). :meth:`from_config` reads all three.
    """

    def __init__(self, roster: Roster | None, *, formats: tuple[str, ...] | None = None,
                 max_bytes: int | None = None, student_id_pattern: str = "") -> None:
        from kiosk.handoff.qr import FORMATS, MAX_PAYLOAD_BYTES

        self.roster = roster
        self.formats = tuple(formats) if formats is not None else FORMATS
        self.max_bytes = max_bytes if max_bytes is not None else MAX_PAYLOAD_BYTES
        self.student_id_pattern = student_id_pattern

    @classmethod
    def from_config(cls, roster: Roster | None, config: Config) -> RosterDirectory:
        return cls(roster, formats=tuple(config.export.qr_formats),
                   max_bytes=config.export.qr_max_bytes,
                   student_id_pattern=config.students.student_id_pattern)

    def from_qr(self, data: bytes) -> Student:
        from kiosk.handoff.qr import QrPayloadError, identify, parse_qr_payload

        extra = {"student_id_pattern": self.student_id_pattern} if self.student_id_pattern else {}
        try:
            qr = parse_qr_payload(data, formats=self.formats, max_bytes=self.max_bytes, **extra)
            return identify(qr, self.roster)
        except QrPayloadError as exc:
            raise LookupFailed(exc.message) from None

    def from_number(self, student_id: str) -> Student:
        if self.roster is None:
            raise LookupFailed(MSG_NO_ROSTER)
        student = self.roster.find(student_id)
        if student is None:
            raise LookupFailed(msg_not_on_roster(student_id))
        return student
