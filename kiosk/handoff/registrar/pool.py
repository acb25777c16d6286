"""Run the registrar's per-photo work on every core, with a progress display.

A graduating class is 10,000 photos: checking them one after another on one core takes a
quarter of an hour. :func:`run_tasks` hands them to ``jobs`` worker processes (default: every
core), each with its own face analyser made once by the pool's initializer, and yields the
results in the order of the tasks, keeping at most a few tasks per worker in flight: memory
grows with the number of workers, never with the number of photos.

With ``jobs=1`` (or a single task) the work runs in this process, with the caller's analyser.

:class:`Progress` draws a bar on a terminal and writes plain lines (every 10 %) when the output
is a file or a pipe, always on stderr so that stdout stays the report.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

_WORKER: dict[str, Any] = {}
IN_FLIGHT_PER_WORKER = 4


def default_jobs() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _init_worker(image_checks: bool, context: dict) -> None:
    """One analyser per worker process, made once (loading the models takes seconds)."""
    _WORKER.clear()
    _WORKER.update(context)
    _WORKER["analyzer"] = None
    if image_checks:
        import cv2

        from kiosk.photo.analysis import Analyzer
        # one worker per core already: OpenCV's own threads would only contend with the others
        cv2.setNumThreads(1)
        _WORKER["analyzer"] = Analyzer()


def _call(fn: Callable, task: Any) -> Any:
    return fn(task, _WORKER)


def run_tasks(fn: Callable[[Any, dict], Any], tasks: Iterable[Any], *, jobs: int,
              image_checks: bool, context: dict, analyzer=None,
              progress: "Progress | None" = None) -> Iterator[Any]:
    """``fn(task, worker)`` for every task, results in task order.

    ``worker`` is a dict: ``context`` plus ``"analyzer"`` (the worker's own, or ``analyzer``
    when running in this process). ``fn`` must be a module-level function (it is pickled).
    """
    tasks = iter(tasks)
    if jobs <= 1:
        worker = dict(context, analyzer=analyzer)
        for task in tasks:
            yield fn(task, worker)
            if progress is not None:
                progress.step()
        return
    # spawn, not fork: the models' libraries start threads, which fork would copy half-made
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(image_checks, context)) as pool:
        window: collections.deque = collections.deque()
        limit = jobs * IN_FLIGHT_PER_WORKER
        for task in tasks:
            window.append(pool.submit(_call, fn, task))
            if len(window) >= limit:
                yield window.popleft().result()
                if progress is not None:
                    progress.step()
        while window:
            yield window.popleft().result()
            if progress is not None:
                progress.step()


class Progress:
    """``done/total`` on stderr: a bar on a terminal, a plain line every 10 % otherwise."""

    def __init__(self, total: int, label: str, *, stream=None) -> None:
        self.total, self.label, self.done = total, label, 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._next_line = 0.1
        self._last_draw = 0.0

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.total <= 0:
            return
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.2 or self.done >= self.total:
                self._last_draw = now
                self._draw()
        elif self.done >= self._next_line * self.total:
            while self._next_line * self.total <= self.done:
                self._next_line += 0.1
            self.stream.write(f"{self.label}: {self.done}/{self.total} "
                              f"({self._rate():.1f}/s)\n")
            self.stream.flush()

    def _rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-6)

    def _draw(self) -> None:
        width = 30
        filled = int(width * self.done / self.total)
        rate = self._rate()
        left = (self.total - self.done) / rate if rate > 0 else 0
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{self.done}/{self.total} {rate:.1f}/s, {left:.0f} s left ")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.total > 0:
            self.stream.write("\n")
            self.stream.flush()
