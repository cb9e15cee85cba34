"""A fake LLM upstream (Anthropic Messages + OpenAI chat-completions) on loopback, in a thread.

Behaviour per request is chosen by the model name: a ``-``-separated token among
``500``, ``429``, ``401``, ``hang``, ``cut``, ``html``, ``buffered``, ``denied`` (403: the
key may not use the model, Bedrock's wording) or ``region`` (404: Vertex's "Publisher Model
... not found" for a region without the model) picks that fault (``claude-upstream-500``,
``fake-hang``); anything else answers normally. The same server can also play a whole gateway
(``mode=``): ``anthropic`` (default), ``openai_only``, ``prefix`` (routes only under ``/api``),
``auth`` (401 unless the key is right), ``reject_beta`` (400 "invalid beta flag" whenever
``anthropic-beta`` is sent), ``html_login``, ``xapikey_only`` (reads the key only from
``x-api-key``: 401 "No api key passed in." otherwise, like a gateway configured for one
header) and ``small_output`` (``/v1/models`` also lists ``deepseek-r1`` and gives every model
``max_tokens: 8192``).

Usable outside pytest: ``with start_fake_upstream() as up: print(up.url)``.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable

__all__ = ["FAULTS", "MODES", "FakeUpstream", "start_fake_upstream"]

FAULTS = ("500", "429", "401", "hang", "cut", "html", "buffered", "denied", "region")
MODES = ("anthropic", "openai_only", "prefix", "auth", "reject_beta", "html_login", "xapikey_only",
         "small_output")
DENIED = "You don't have access to the model with the specified model ID."
REGION = ("Publisher Model `projects/acme-claude-prod/locations/europe-west4/publishers/anthropic/"
          "models/{model}` was not found or your project does not have access to it.")
TEXT = "Hello from fake upstream."
HTML_LOGIN = (
    "<!DOCTYPE html><html><head><title>Sign in - Corp SSO</title></head>"
    "<body><form action=\"/login\"><input name=\"user\"></form></body></html>"
)
_STATUS_TYPES = {500: "api_error", 429: "rate_limit_error", 401: "authentication_error"}


def _fault(model: str) -> str | None:
    tokens = set(str(model).lower().split("-"))
    return next((f for f in FAULTS if f in tokens), None)


def anthropic_events(model: str, text: str = TEXT) -> list[tuple[str, dict[str, Any]]]:
    """The event sequence a real Messages stream sends, ping included."""
    msg_id = f"msg_{uuid.uuid4().hex[:24]}"
    return [
        ("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 9, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        *[("content_block_delta", {"type": "content_block_delta", "index": 0,
                                   "delta": {"type": "text_delta", "text": piece}})
          for piece in (text[:6], text[6:])],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 6}}),
        ("message_stop", {"type": "message_stop"}),
    ]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeUpstream:
    """Handle on a running fake: ``url``, ``requests`` (recorded), ``stop()``."""

    mode: str = "anthropic"
    key: str | None = None              # the key ``mode="auth"`` accepts
    models: tuple[str, ...] | None = None  # served ids (None: any); others -> 404 not_found_error
    event_gap: float = 0.01             # seconds between streamed events
    buffer_delay: float = 0.25          # how long "buffered" holds the whole stream back
    hang_s: float = 60.0
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeUpstream:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; one of {MODES}")
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"fake-upstream-{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeUpstream:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_fake_upstream(mode: str = "anthropic", *, port: int = 0, **kwargs: Any) -> FakeUpstream:
    """Start a fake upstream/gateway on 127.0.0.1 (``port=0``: any free port)."""
    return FakeUpstream(mode=mode, **kwargs).start(port=port)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeUpstream
    protocol_version = "HTTP/1.1"
    server_version = "fake-upstream/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # ---- plumbing -------------------------------------------------------------------------
    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _send(self, status: int, payload: Any, ctype: str = "application/json",
              headers: Iterable[tuple[str, str]] = ()) -> None:
        data = payload if isinstance(payload, bytes) else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_chunked(self, ctype: str = "text/event-stream") -> None:
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        # NOTE: a hard close (RST) mid-body is what a crashing upstream or an idle-killing
        # middlebox does; the client sees an incomplete chunked body.
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _error(self, status: int, etype: str, message: str, openai: bool = False) -> None:
        if openai:
            self._send(status, {"error": {"message": message, "type": etype, "param": None,
                                          "code": str(status)}})
        else:
            self._send(status, {"type": "error", "error": {"type": etype, "message": message}})

    # ---- routing --------------------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802
        self._send(404, b"")

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        body = self._body() if method == "POST" else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake.requests.append(Recorded(method, self.path, headers, body))
        path = self.path.split("?", 1)[0]
        mode = self.fake.mode
        if mode == "html_login":
            self._send(200, HTML_LOGIN, "text/html; charset=utf-8")
            return
        if mode == "prefix":
            if not path.startswith("/api/"):
                self._send(404, {"error": {"message": f"Route {self.path} not found",
                                           "type": "not_found"}})
                return
            path = path[len("/api"):]
        if mode == "auth" and path.startswith("/v1/"):
            sent = (headers.get("x-api-key")
                    or headers.get("authorization", "").removeprefix("Bearer "))
            if sent != self.fake.key:
                # Echo a masked key prefix the way LiteLLM's custom_auth gateways do.
                self._send(401, {"error": {
                    "message": "Authentication Error, Invalid proxy server token passed. "
                               f"Received API Key = {sent[:6]}****", "type": "auth_error",
                    "param": "None", "code": "401"}})
                return
        if mode == "xapikey_only" and path.startswith("/v1/") and not headers.get("x-api-key"):
            self._send(401, {"error": {"message": "No api key passed in.", "type": "auth_error",
                                       "param": "None", "code": "401"}})
            return
        if mode == "reject_beta" and "anthropic-beta" in headers \
                and path.startswith("/v1/messages"):
            self._error(400, "invalid_request_error", "invalid beta flag")
            return
        if method == "GET" and path == "/":
            self._send(200, {"status": "ok", "service": "fake-upstream"})
        elif method == "GET" and path == "/v1/models":
            ids = self.fake.models or ("claude-sonnet-4-5", "claude-opus-5-5", "claude-haiku-5-5")
            extra: dict[str, Any] = {}
            if mode == "small_output":
                ids, extra = (*ids, "deepseek-r1"), {"max_tokens": 8192}
            self._send(200, {"data": [{"id": i, "type": "model", "display_name": i, **extra}
                                      for i in ids],
                             "has_more": False})
        elif method == "POST" and path == "/v1/messages/count_tokens" and mode != "openai_only":
            self._send(200, {"input_tokens": 9})
        elif method == "POST" and path == "/v1/messages" and mode != "openai_only":
            self._messages(body or {})
        elif method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            self._chat(body or {})
        else:
            self._send(404, {"detail": "Not Found"})

    def _common_fault(self, fault: str | None, openai: bool, model: str = "") -> bool:
        if fault == "denied":
            self._error(403, "permission_error", DENIED, openai)
            return True
        if fault == "region":
            self._error(404, "not_found_error", REGION.format(model=model), openai)
            return True
        if fault in ("500", "429", "401"):
            status = int(fault)
            self._error(status, _STATUS_TYPES[status], f"fake upstream error {status}", openai)
            return True
        if fault == "hang":
            self.fake._stop.wait(self.fake.hang_s)
            self.close_connection = True
            return True
        if fault == "html":
            self._send(200, "<html>this is not json</html>", "text/html")
            return True
        return False

    def _messages(self, body: dict[str, Any]) -> None:
        model = str(body.get("model", ""))
        if self.fake.models is not None and model not in self.fake.models:
            self._error(404, "not_found_error", f"model: {model}")
            return
        fault = _fault(model)
        if self._common_fault(fault, openai=False, model=model):
            return
        if not body.get("stream"):
            if fault == "cut":
                self._cut()
                return
            self._send(200, {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message",
                             "role": "assistant", "model": model,
                             "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
                             "stop_sequence": None,
                             "usage": {"input_tokens": 9, "output_tokens": 6}})
            return
        events = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                  for name, data in anthropic_events(model)]
        self._stream(events, fault)

    def _chat(self, body: dict[str, Any]) -> None:
        model = str(body.get("model", ""))
        fault = _fault(model)
        if self._common_fault(fault, openai=True, model=model):
            return
        cid, now = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
        if not body.get("stream"):
            if fault == "cut":
                self._cut()
                return
            self._send(200, {"id": cid, "object": "chat.completion", "created": now, "model": model,
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": TEXT}}],
                             "usage": {"prompt_tokens": 9, "completion_tokens": 6,
                                       "total_tokens": 15}})
            return

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n".encode()

        events = [chunk({"role": "assistant", "content": ""}), chunk({"content": TEXT[:6]}),
                  chunk({"content": TEXT[6:]}), chunk({}, "stop"), b"data: [DONE]\n\n"]
        self._stream(events, fault)

    def _stream(self, events: list[bytes], fault: str | None) -> None:
        self.close_connection = True
        self._start_chunked()
        if fault == "buffered":
            time.sleep(self.fake.buffer_delay)
            self._chunk(b"".join(events))
            self._end_chunked()
            return
        for i, event in enumerate(events):
            # Cut just before the end: by then LiteLLM has committed to a 200 stream. A cut
            # at the third event sometimes came back as a 500 "payload not completed" and
            # made the cut-stream scenario flaky.
            if fault == "cut" and i == max(2, len(events) - 2):
                self._cut()
                return
            self._chunk(event)
            if i < len(events) - 1 and self.fake.event_gap:
                time.sleep(self.fake.event_gap)
        self._end_chunked()
