"""What the student is asked to confirm when a measure cannot decide, and the head-covering
allowance.

A hard rule in :data:`~kiosk.photo.checks.result.CONFIRMABLE_IDS` that answers ``unknown`` is
never reported as a pass: the review screen shows one line per such rule (below), the student
confirms them, the confirmation is recorded with the photo, and the manifest and contact sheet
mark the photo "需人工复核 / needs a look" for the registrar.

Head coverings worn for religious or medical reasons are allowed by the standard (二.4) when the
face stays uncovered and unshadowed. A booth whose technician sets ``booth.allow_head_covering``
turns an ``attire.headwear`` fail into such a confirmation (the student confirms the covering is
religious or medical and the face is fully visible), recorded as an exception: never a silent
pass. Without the setting a head covering fails like any hat.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from kiosk.message import Message
from kiosk.photo.checks.result import CheckResult, Status

#: One line per confirmable rule: what the student states by confirming.
CONFIRM_LINES: dict[str, Message] = {
    "attire.headwear": Message("我没有戴帽子、头巾或发箍", "I am not wearing a hat, cap, hood or headband"),
    "attire.jewelry": Message("我没有戴耳环、项链等饰品", "I am not wearing earrings or a necklace"),
    "occlusion.hair": Message("头发没有遮住我的眉毛、眼睛和双耳",
                              "My hair does not cover my eyebrows, eyes or ears"),
}

#: ``found`` of an attire.headwear result turned into an exception by the allowance.
HEAD_COVERING = "head_covering_allowed"
HEAD_COVERING_LINE = Message("我戴的是宗教或医疗用头巾，面部完全露出、没有阴影",
                             "My head covering is religious or medical; my whole face is uncovered "
                             "and unshadowed")
HEAD_COVERING_NOTE = Message("检测到头部遮盖物：本机允许宗教或医疗用头巾，请确认，工作人员将复核",
                             "A head covering was detected: this booth allows religious or medical "
                             "ones; please confirm, staff will take a look")


def confirmation_line(result: CheckResult) -> Message:
    """What the student confirms for ``result`` (a result that needs confirmation)."""
    if result.id == "attire.headwear" and result.found == HEAD_COVERING:
        return HEAD_COVERING_LINE
    return CONFIRM_LINES.get(result.id, result.message)


def apply_allowances(results: Iterable[CheckResult], config: object = None) -> list[CheckResult]:
    """The results with the booth's allowances applied (today: ``booth.allow_head_covering``)."""
    allow = bool(getattr(getattr(config, "booth", None), "allow_head_covering", False))
    out = []
    for r in results:
        if allow and r.id == "attire.headwear" and r.status is Status.FAIL and not r.advisory:
            limit = f"{r.limit} (religious/medical covering allowed: confirmed by the student)" \
                if r.limit else "religious/medical covering allowed: confirmed by the student"
            r = replace(r, status=Status.UNKNOWN, limit=limit, message=HEAD_COVERING_NOTE,
                        found=HEAD_COVERING, severity=0.0)
        out.append(r)
    return out
