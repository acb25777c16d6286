"""An Analyzer that counts its ``analyze()`` calls.

What the speed work promises (each still analysed once, the finished bytes once, nothing again
on writing the file) is counted around the real Analyzer: by a test, and by bench/pipeline.py
in its figures.
"""

from __future__ import annotations

from kiosk.photo.analysis import Analysis, Analyzer
from kiosk.photo.arrays import RGB


class CountingAnalyzer:
    """The real ``analyzer``, counting its analyze() calls in :attr:`calls`."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer, self.calls = analyzer, 0

    def analyze(self, rgb: RGB, *, shoulders: bool = True,
                source_size: tuple[int, int] | None = None) -> Analysis:
        self.calls += 1
        return self.analyzer.analyze(rgb, shoulders=shoulders, source_size=source_size)

    def close(self) -> None:
        """Nothing: the wrapped analyzer belongs to whoever made it (it outlives the counting)."""
