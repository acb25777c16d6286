"""The answer every check gives: status, measured value, limit, and a bilingual instruction."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Iterable

from kiosk.message import Message


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"        # handed over, flagged to the person and in the manifest
    FAIL = "fail"        # the file must not be handed over
    UNKNOWN = "unknown"  # could not be measured: a fail for hard rules, a warn for advisory ones


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

    @property
    def blocking(self) -> bool:
        """True when this result keeps the photo from being handed over."""
        if self.advisory:
            return False
        return self.status in (Status.FAIL, Status.UNKNOWN)

    def to_dict(self) -> dict:
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
        return {
            "id": self.id,
            "status": self.status.value,
            "value": value,
            "limit": self.limit,
            "message": self.message.to_dict(),
        }


def verdict(results: Iterable[CheckResult]) -> Status:
    """pass, warn or fail for a whole photo: any blocking result fails it, any warning warns."""
    results = list(results)
    if any(r.blocking for r in results):
        return Status.FAIL
    if any(r.status != Status.PASS for r in results):
        return Status.WARN
    return Status.PASS
