"""Fixtures for the handoff tests (helpers live in handoff_fixtures.py)."""

from __future__ import annotations

import pytest
from handoff_fixtures import make_student


@pytest.fixture
def students():
    return [make_student(i) for i in range(1, 6)]
