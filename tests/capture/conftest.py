"""Capture-tier fixtures: every case runs the real client once per version, concurrently, and the
captures are shared by the comparison tests and the knowledge-provenance test."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _capture import Capture, Case, capture, warm  # noqa: E402

_CACHE: dict[tuple[str, str], Capture] = {}
_LOCK = threading.Lock()


@pytest.fixture(scope="session")
def captured(net_pki: Any) -> Callable[[Case, str], Capture]:
    """``captured(case, version)``: the real client's run of the case (cached per session)."""

    def get(case: Case, version: str) -> Capture:
        key = (case.id, version)
        with _LOCK:
            if key in _CACHE:
                return _CACHE[key]
        result = capture(case, version, net_pki)
        with _LOCK:
            _CACHE[key] = result
        return result

    return get


@pytest.fixture(scope="module", autouse=True)
def _warm_module_cases(request: pytest.FixtureRequest) -> None:
    """A test module's ``CASES`` are captured up front, three client runs at a time, instead of
    one by one as its tests ask for them."""
    cases = getattr(request.module, "CASES", None)
    if cases:
        warm(request.getfixturevalue("captured"), list(cases))
