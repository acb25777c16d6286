"""Booth statistics from a small JSON-lines log in the state directory (``sessions.jsonl``).

The booth appends one line per finished session (:func:`record_session`); technician mode reads
them back (:func:`summarize`): how many sessions, how many photos saved, the pass rate of every
check on the final photos, and the median session time. A broken line (power cut mid-write) is
skipped and counted, never fatal. Nothing personal is logged: no names, no ID numbers.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

log = logging.getLogger(__name__)

FILENAME = "sessions.jsonl"
OUTCOMES = ("saved", "abandoned", "failed")


def log_path(state_dir: str | os.PathLike) -> Path:
    return Path(state_dir) / FILENAME


def record_session(state_dir: str | os.PathLike, *, outcome: str, duration_s: float,
                   checks: Mapping[str, str] | Iterable = (), retakes: int = 0,
                   when: float | None = None) -> None:
    """Append one session. ``checks``: rule id -> status ("pass"/"warn"/"fail"/"unknown"), or
    CheckResult objects, of the final photo (empty when none was taken)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    if not isinstance(checks, Mapping):
        results: Iterable[Any] = checks           # CheckResult objects
        checks = {r.id: getattr(r.status, "value", r.status) for r in results}
    line = json.dumps({"t": round(when if when is not None else time.time(), 3), "outcome": outcome,
                       "duration_s": round(float(duration_s), 2), "retakes": int(retakes),
                       "checks": dict(checks)}, ensure_ascii=False)
    path = log_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one write() of one line in append mode: lines from a crash are at worst cut, never mixed
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


@dataclass(frozen=True)
class CheckRate:
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Stats:
    sessions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    median_session_s: float | None = None
    checks: dict[str, CheckRate] = field(default_factory=dict)   # rule id -> passes / photos
    retakes: int = 0
    skipped_lines: int = 0
    since: float | None = None

    @property
    def saved(self) -> int:
        return self.outcomes.get("saved", 0)

    def worst_checks(self, n: int = 5) -> list[tuple[str, CheckRate]]:
        """The checks that fail most often: where students need help (or the booth does)."""
        return sorted(self.checks.items(), key=lambda kv: (kv[1].rate, kv[0]))[:n]


def summarize(state_dir: str | os.PathLike, *, since: float | None = None) -> Stats:
    """Read the log (optionally only sessions at or after ``since``, a UNIX time)."""
    path = log_path(state_dir)
    if not path.exists():
        return Stats(since=since)
    outcomes: dict[str, int] = {}
    durations: list[float] = []
    counts: dict[str, list[int]] = {}
    sessions = retakes = skipped = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                outcome = rec["outcome"]
                duration = float(rec["duration_s"])
                t = float(rec.get("t", 0))
                checks = rec.get("checks") or {}
                if not isinstance(checks, dict):
                    raise TypeError("checks is not an object")
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            if since is not None and t < since:
                continue
            sessions += 1
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            durations.append(duration)
            retakes += int(rec.get("retakes", 0) or 0)
            for rule, status in checks.items():
                c = counts.setdefault(rule, [0, 0])
                c[1] += 1
                c[0] += status == "pass"
    if skipped:
        log.warning("%s: %d unreadable line(s) skipped", path, skipped)
    return Stats(sessions, outcomes, statistics.median(durations) if durations else None,
                 {k: CheckRate(*v) for k, v in sorted(counts.items())}, retakes, skipped, since)
