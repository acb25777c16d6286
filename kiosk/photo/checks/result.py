"""The answer every check gives: status, measured value, limit, and a bilingual instruction."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from kiosk.message import Message


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"        # handed over, flagged to the person and in the manifest
    FAIL = "fail"        # the file must not be handed over
    UNKNOWN = "unknown"  # could not be measured: a fail for hard rules, a warn for advisory ones;
                         # for the rules a person can answer (CONFIRMABLE_IDS) it asks them


#: Hard rules the person in the photo can answer when the measure cannot: a hat, jewellery,
#: hair over the brows, eyes or ears. Unknown there does not fail the photo: the booth asks the
#: student to confirm each point, records it, and flags the photo "needs a look" for the
#: registrar. Unknown on any other hard rule (layout, pose, …) still fails: nobody can vouch
#: for a measurement by looking at themselves.
CONFIRMABLE_IDS: frozenset[str] = frozenset({"attire.headwear", "attire.jewelry", "occlusion.hair"})


@dataclass(frozen=True)
class CheckResult:
    id: str                                   # a rule id of the standard, e.g. "pose.yaw"
    status: Status
    value: float | str | None = None          # what was measured (units in the limit text)
    limit: str | None = None                  # human-readable limit, e.g. "|yaw| ≤ 5°"
    message: Message = field(default_factory=lambda: Message("", ""))
    advisory: bool = False                    # advisory rules never block the photo
    # How far outside the limit the value is, in the limit's unit (0 when passing). Live
    # guidance uses it to pick the most important instruction; it is not part of the JSON.
    severity: float = 0.0
    # What the measure identified, when a rule identifies something: background.color names
    # the standard backdrop it found ("blue", "white", "grey"); None otherwise.
    found: str | None = None

    @property
    def needs_confirmation(self) -> bool:
        """A hard rule the measure could not decide and the student must confirm (never a pass)."""
        return self.status is Status.UNKNOWN and not self.advisory and self.id in CONFIRMABLE_IDS

    @property
    def blocking(self) -> bool:
        """True when this result keeps the photo from being handed over, whatever anyone says.

        A result that :attr:`needs_confirmation` is not blocking: it holds the photo back
        until the student confirms (see :func:`verdict`)."""
        if self.advisory or self.needs_confirmation:
            return False
        return self.status in (Status.FAIL, Status.UNKNOWN)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``value`` is a number, a string or None (never NaN, never numpy)."""
        value = self.value
        item = getattr(value, "item", None)
        if item is not None and not isinstance(value, (str, bytes)):
            value = item()                    # a numpy scalar from a measurement
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, float):
            # NaN/inf are not JSON: a measurement that produced one did not measure anything
            value = round(value, 3) if math.isfinite(value) else None
        # (``found`` is not part of it: the limit's text names what was found, and the
        # manifests record the backdrop in a field of their own)
        return {
            "id": self.id,
            "status": self.status.value,
            "value": value,
            "limit": self.limit,
            "message": self.message.to_dict(),
        }


def verdict(results: Iterable[CheckResult], confirmed: Iterable[str] = ()) -> Status:
    """The whole photo's answer: ``fail`` when any result blocks it; ``unknown`` when a rule
    still needs the student's confirmation (not handed over without it); ``warn`` when anything
    is not a clean pass (a confirmed unknown included: it still needs a look); else ``pass``.

    ``confirmed``: the rule ids the student confirmed on the review screen.
    """
    results = list(results)
    confirmed = set(confirmed)
    if any(r.blocking for r in results):
        return Status.FAIL
    if any(r.needs_confirmation and r.id not in confirmed for r in results):
        return Status.UNKNOWN
    if any(r.status != Status.PASS for r in results):
        return Status.WARN
    return Status.PASS


def to_confirm(results: Iterable[CheckResult]) -> list[CheckResult]:
    """The results the student must confirm before the photo may be handed over, in order."""
    seen, out = set(), []
    for r in results:
        if r.needs_confirmation and r.id not in seen:
            seen.add(r.id)
            out.append(r)
    return out
