"""Read an Anthropic Messages SSE stream with a timestamp per event, bounded in time and size.

No I/O of its own: it consumes an httpx streaming response.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from ._lazy import httpx  # imported on first use

__all__ = ["BURST_GAP_MS", "SseReading", "read_sse"]

# Events arriving less than this apart count as one burst. A gateway that buffers the
# response delivers message_start … message_stop in one burst; a streaming one spreads them
# over the generation (on loopback with the fake upstream ≈10 ms apart).
BURST_GAP_MS = 5.0
# NOTE: a loaded machine can coalesce a short healthy stream into one burst too, so the
# model probe re-checks a one-burst stream once before calling it buffered.
MAX_EVENTS = 200


@dataclass
class SseReading:
    events: list[str] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    done_sentinel: bool = False      # an OpenAI "data: [DONE]" inside an Anthropic stream
    error: str | None = None         # transport failure mid-stream, or "timeout"
    error_event: dict[str, Any] | None = None
    raw: bytes = b""                 # the first bytes, for an excerpt when nothing parsed
    truncated: bool = False

    def summary(self, started: float, ended: float,
                headers_at: float | None = None) -> dict[str, Any]:
        t = self.times_ms
        headers_ms = (headers_at - started) * 1000 if headers_at is not None else None
        held_ms = round(t[0] - headers_ms, 1) if t and headers_ms is not None else None
        bursts = 1 + sum(1 for a, b in zip(t, t[1:]) if b - a >= BURST_GAP_MS) if t else 0
        spread = round(t[-1] - t[0], 1) if t else None
        complete = bool(self.events) and self.events[-1] == "message_stop" \
            and "message_start" in self.events and "error" not in self.events and self.error is None
        return {
            "events": self.events[:50],
            "complete": complete,
            # Incremental unless a multi-event stream arrived in one burst.
            "incremental": bool(t) and (len(t) < 3 or bursts > 1),
            "headers_ms": int(headers_ms) if headers_ms is not None else None,
            "held_ms": held_ms,
            "first_event_ms": int(t[0]) if t else None,
            "total_ms": int((ended - started) * 1000),
            "spread_ms": spread,
            "bursts": bursts,
            "done_sentinel": self.done_sentinel,
        }


def _iter_chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_bytes()


def read_sse(response: httpx.Response, started: float, deadline: float,
             limit: int = 256 * 1024) -> SseReading:
    """Parse events as they arrive; stop at ``deadline`` (monotonic), ``limit`` bytes or
    ``message_stop``."""
    out = SseReading()
    buffer = b""
    size = 0
    try:
        for chunk in _iter_chunks(response):
            now = time.monotonic()
            size += len(chunk)
            if len(out.raw) < 2048:
                out.raw += chunk[: 2048 - len(out.raw)]
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                _event(out, block, (now - started) * 1000)
            if size > limit or len(out.events) >= MAX_EVENTS:
                out.truncated = True
                break
            if out.events and out.events[-1] == "message_stop":
                break
            if now > deadline:
                out.error = "timeout"
                break
    except httpx.HTTPError as exc:
        from ._http import classify_transport_error

        out.error = classify_transport_error(exc)
    if buffer.strip():
        _event(out, buffer, (time.monotonic() - started) * 1000)
    return out


def _event(out: SseReading, block: bytes, at_ms: float) -> None:
    name: str | None = None
    data_lines: list[str] = []
    for line in block.decode("utf-8", "replace").split("\n"):
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].strip())
    data = "\n".join(data_lines)
    if data == "[DONE]":
        out.done_sentinel = True
        return
    parsed: Any = None
    if data:
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
    if name is None and isinstance(parsed, dict):
        name = parsed.get("type") if isinstance(parsed.get("type"), str) else None
    if name is None:
        return
    if name == "error" and isinstance(parsed, dict):
        out.error_event = parsed.get("error") if isinstance(parsed.get("error"), dict) else parsed
    out.events.append(name)
    out.times_ms.append(round(at_ms, 1))
