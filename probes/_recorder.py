"""A recording endpoint and a recording proxy on loopback: what does the real client send?

Used by ``--observe-client`` (probes/observe.py) and by the capture tier of the test suite
(tests/capture/), so the knowledge of what the client sends comes from the client itself.

``Recorder`` answers like a minimal Anthropic Messages API (a short, valid event stream for
``POST …/v1/messages``, ``{"input_tokens": 1}`` for ``count_tokens``, 404 for anything else)
so the client finishes normally, and keeps every request: method, path, query, headers and the
JSON body. A ``responder`` can answer differently (provider wire formats, faults).
``RecordingProxy`` records CONNECT and absolute-form requests and relays them, to loopback
targets only. Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

__all__ = ["Exchange", "Recorder", "RecordingProxy", "Reply", "anthropic_stream", "default_reply"]

MAX_BODY = 4 * 1024 * 1024  # the client's first request is ~90 KB (12 tools); cap what we keep
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TEXT = "Hello from the gwdoctor recorder."


@dataclass
class Exchange:
    """One request as it arrived."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any = None
    via: str = "direct"          # "direct" at the recorder; "connect"/"forward" at the proxy
    target: str = ""             # the proxy's target (host:port or absolute URL)

    @property
    def model(self) -> str | None:
        return self.json.get("model") if isinstance(self.json, dict) else None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    chunks: Iterable[bytes]


Responder = Callable[[Exchange], "Reply | None"]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def anthropic_stream(model: str, text: str = TEXT) -> list[bytes]:
    """A complete Messages event stream (what api.anthropic.com sends, shortened)."""
    msg: dict[str, Any] = {
           "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
           "model": model, "content": [], "stop_reason": None, "stop_sequence": None,
           "usage": {"input_tokens": 1, "output_tokens": 1}}
    return [
        _sse("message_start", {"type": "message_start", "message": msg}),
        _sse("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
        _sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "text_delta", "text": text}}),
        _sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _sse("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": 5}}),
        _sse("message_stop", {"type": "message_stop"}),
    ]


def default_reply(ex: Exchange) -> Reply:
    body = ex.json if isinstance(ex.json, dict) else {}
    if ex.method == "POST" and ex.path.endswith("/count_tokens"):
        return Reply(200, {"content-type": "application/json"}, [b'{"input_tokens": 1}'])
    if ex.method == "POST" and ex.path.endswith("/v1/messages"):
        model = str(body.get("model") or "unknown")
        if body.get("stream"):
            return Reply(200, {"content-type": "text/event-stream"}, anthropic_stream(model))
        message = {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
                   "model": model, "content": [{"type": "text", "text": TEXT}],
                   "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": 1, "output_tokens": 5}}
        return Reply(200, {"content-type": "application/json"}, [json.dumps(message).encode()])
    return Reply(404, {"content-type": "application/json"},
                 [b'{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}'])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its connection check (HEAD, then reset) is not an error here.
        pass


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    length = int(handler.headers.get("content-length") or 0)
    if length:
        data = handler.rfile.read(min(length, MAX_BODY))
        rest = length - len(data)
        while rest > 0:  # drain what we do not keep, so the client is not left writing
            got = handler.rfile.read(min(rest, 65536))
            if not got:
                break
            rest -= len(got)
        return data
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        out = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return out[:MAX_BODY]
            out += handler.rfile.read(size)
            handler.rfile.readline()
    return b""


def _parse(raw: bytes, headers: Any) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


class _QuietHandler(BaseHTTPRequestHandler):
    owner: Recorder
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _RecordingHandler(_QuietHandler):
    server_version = "gwdoctor-recorder"

    def _handle(self) -> None:
        raw = _read_body(self)
        path, _, query = self.path.partition("?")
        ex = Exchange(self.command, path, query, {k.lower(): v for k, v in self.headers.items()},
                      _parse(raw, self.headers))
        self.owner.add(ex)
        reply = (self.owner.responder(ex) if self.owner.responder else None) or default_reply(ex)
        chunks = list(reply.chunks)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(sum(len(c) for c in chunks)))
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815


class Recorder:
    """``with Recorder() as rec: …  rec.url, rec.exchanges``."""

    _handler: type[_QuietHandler] = _RecordingHandler

    def __init__(self, responder: Responder | None = None,
                 tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.responder, self.tls, self.host = responder, tls, host
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def add(self, ex: Exchange) -> None:
        with self._lock:
            self.exchanges.append(ex)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> Recorder:
        handler = type("Handler", (self._handler,), {"owner": self})
        self._server = _Server((self.host, 0), handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name=f"gwdoctor-{type(self).__name__}").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _relay(a: socket.socket, b: socket.socket, limit: float = 120.0) -> None:
    socks = [a, b]
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], limit)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


class _ProxyHandler(_QuietHandler):
    server_version = "gwdoctor-recording-proxy"

    def _record(self, via: str, target: str) -> Exchange:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "proxy-authorization" in headers:  # keep the scheme, never the credential
            headers["proxy-authorization"] = headers["proxy-authorization"].split(" ", 1)[0] + " …"
        ex = Exchange(self.command, target, "", headers, None, via=via, target=target)
        self.owner.add(ex)
        return ex

    def do_CONNECT(self) -> None:  # noqa: N802
        self._record("connect", self.path)
        host, _, port = self.path.rpartition(":")
        if host.strip("[]") not in LOOPBACK:
            self.send_error(403, "recording proxy relays to loopback only")
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        _relay(self.connection, upstream)

    def _forward(self) -> None:
        from urllib.parse import urlsplit

        ex = self._record("forward", self.path)
        raw = _read_body(self)
        url = urlsplit(self.path)
        if url.hostname not in LOOPBACK or not url.port:
            self.send_error(403, "recording proxy relays to loopback only")
            return
        path = url.path + (f"?{url.query}" if url.query else "")
        ex.path, ex.query, ex.json = url.path, url.query, _parse(raw, self.headers)
        keep = {k: v for k, v in self.headers.items()
                if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")}
        try:
            with socket.create_connection((url.hostname, url.port), timeout=30) as up:
                head = f"{self.command} {path} HTTP/1.1\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in keep.items()) + "Connection: close\r\n\r\n"
                up.sendall(head.encode("latin-1") + raw)
                self.close_connection = True
                while data := up.recv(65536):
                    self.wfile.write(data)
        except OSError:
            self.send_error(502)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815


class RecordingProxy(Recorder):
    """An HTTP proxy that records what goes through it (``exchanges``) and relays to loopback."""

    _handler = _ProxyHandler
