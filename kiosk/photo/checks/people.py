"""face.count: exactly one person in the frame (full-range face detection + person blobs)."""

from __future__ import annotations

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.common import failed, passed
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult

NOBODY = Message("请站到镜头前", "Please stand in front of the camera")
TOO_MANY = Message("画面中只能有一个人：请其他人离开", "Only one person may be in the picture: others please step away")


def face_count(ctx: CheckContext) -> CheckResult:
    n = ctx.analysis.people_count
    limit = f"exactly {standard.FACE_COUNT} person"
    if n == standard.FACE_COUNT:
        return passed("face.count", n, limit)
    return failed("face.count", n, limit, NOBODY if n < standard.FACE_COUNT else TOO_MANY,
                  abs(n - standard.FACE_COUNT))


CHECKS = {"face.count": face_count}
