"""Shared pytest setup: makes the live fixtures (real servers on loopback) visible to every test."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from live.gateway import *  # noqa: E402,F401,F403  fake upstream + real LiteLLM fixtures
from live.network import *  # noqa: E402,F401,F403  squid, TLS servers, tarpit, closed port
