"""Scenario gateways that fail only the background (haiku) model's requests, for point 5 of issue
11 (severity in agreement with the client): `claude -p` sends only the main model and answers, so
a fallback finding about the background model must be a warning and the verdict degraded.

Registered into ``_parts.SCENARIO_GATEWAY_MODES`` when the scenario conftest imports it:
``gw:haiku_400`` answers a haiku request with anthropics/claude-code#52811's 400 (MDL007's
territory), ``gw:haiku_403`` with anthropics/claude-code#1613's 403 refusal by policy (AUT008's).
"""

from __future__ import annotations

from typing import Any

from _parts import SCENARIO_GATEWAY_MODES, THINKING_400, _canned

__all__: list[str] = []


def _background(body: dict[str, Any]) -> bool:
    return "haiku" in str(body.get("model") or "")


SCENARIO_GATEWAY_MODES.update({
    "haiku_400": _canned(400, THINKING_400, when=_background),
    "haiku_403": _canned(403, {"error": {"type": "forbidden", "message": "Request not allowed"}},
                         when=_background),
})
