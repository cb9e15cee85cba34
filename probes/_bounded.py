"""An httpx transport that bounds what a hostile server can cost: inflated size, body size,
and wall time.

Wraps the transport ``_http.client_for`` builds, so every probe's HTTP exchange gets it:

* Content-Encoding is decoded here, layer by layer, with ``zlib`` output capped per call:
  httpx inflates each layer with no size limit, so ``Content-Encoding: gzip, gzip`` turned
  16.6 KB on the wire into 10 GB before any read cap applied. Beyond ``MAX_BODY`` bytes
  (raw or inflated, across all layers) the stream raises ``BodyTooLarge``. An encoding it
  cannot decode (br, zstd, anything else) is passed through raw, still capped: it was not
  asked for (``Accept-Encoding: gzip, deflate``).
* Every read on the connection, headers and body, shares one deadline: the request's read
  timeout plus ``GRACE``. A server that drips one byte a second never trips httpx's
  per-read timeout; here it ends in ``httpx.ReadTimeout`` like any other stall.
"""

from __future__ import annotations

import threading
import time
import zlib
from typing import Any, Iterator

from ._lazy import httpx

__all__ = ["BodyTooLarge", "MAX_BODY", "bounded"]

# Bigger than any body a probe keeps (256 KiB) by far; a real error page or model list is KiBs.
MAX_BODY = 16 * 2**20
# zlib output per decompress call: memory stays near this whatever the ratio (~1000:1 per layer).
_STEP = 64 * 1024
GRACE = 0.5
_DECODABLE = {"gzip", "x-gzip", "deflate", "identity"}
_local = threading.local()


class BodyTooLarge(httpx.DecodingError):  # type: ignore[name-defined,misc]
    """The body, raw or inflated, went past MAX_BODY bytes."""


def _deadline_left(timeout: float | None) -> float | None:
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        import httpcore

        raise httpcore.ReadTimeout("the exchange took longer than its deadline (a drip?)")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A network stream whose every read and handshake fits the exchange's deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _deadline_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _deadline_left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> "_Stream":
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _deadline_left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> _Stream:
        return _Stream(self._inner.connect_tcp(host, port, _deadline_left(timeout), local_address,
                                               socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(path, _deadline_left(timeout),
                                                       socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _decoder(name: str) -> Any:
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return zlib.decompressobj()  # zlib-wrapped, as httpx assumes first
    return None


class _Decoded(httpx.SyncByteStream):  # type: ignore[name-defined,misc]
    """The body with its encodings undone, never more than _STEP bytes inflated at a time."""

    def __init__(self, inner: Any, encodings: list[str]) -> None:
        self._inner = inner
        # Content-Encoding lists layers in the order applied: undo the last first.
        self._layers = [_decoder(e) for e in reversed(encodings)]

    def _through(self, data: bytes, depth: int) -> Iterator[bytes]:
        if depth == len(self._layers):
            yield data
            return
        layer = self._layers[depth]
        pending = data
        while pending:
            try:
                out = layer.decompress(pending, _STEP)
            except zlib.error as exc:
                raise httpx.DecodingError(f"bad compressed body: {exc}") from None
            pending = layer.unconsumed_tail
            if out:
                yield from self._through(out, depth + 1)
            if not out and not pending:
                break

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self._inner:
            for piece in self._through(chunk, 0):
                total += len(piece)
                if total > MAX_BODY:
                    raise BodyTooLarge(f"body larger than {MAX_BODY // 2**20} MiB once decoded")
                yield piece

    def close(self) -> None:
        self._inner.close()


class _Raw(httpx.SyncByteStream):  # type: ignore[name-defined,misc]
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self._inner:
            total += len(chunk)
            if total > MAX_BODY:
                raise BodyTooLarge(f"body larger than {MAX_BODY // 2**20} MiB")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _Bounded(httpx.BaseTransport):  # type: ignore[name-defined,misc]
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        for pool in _pools(inner):
            pool._network_backend = _Backend(pool._network_backend)

    def handle_request(self, request: Any) -> Any:
        request.headers.setdefault("accept-encoding", "gzip, deflate")
        read = (request.extensions.get("timeout") or {}).get("read")
        # NOTE: thread-local, set per exchange: probes run one exchange at a time per
        # thread, and the body is read on the same thread after this returns.
        _local.deadline = time.monotonic() + read + GRACE if read else None
        response = self._inner.handle_request(request)
        encodings = [e.strip().lower() for e in
                     response.headers.get("content-encoding", "").split(",") if e.strip()]
        if encodings and all(e in _DECODABLE for e in encodings):
            headers = [(k, v) for k, v in response.headers.raw
                       if k.lower() not in (b"content-encoding", b"content-length")]
            stream = _Decoded(response.stream, [e for e in encodings if e != "identity"])
        else:
            # Nothing to undo, or an encoding it cannot: httpx must not try either.
            headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-encoding"]
            stream = _Raw(response.stream)
        return httpx.Response(response.status_code, headers=headers, stream=stream,
                              extensions=response.extensions, request=request)

    def close(self) -> None:
        self._inner.close()


def _pools(transport: Any) -> list[Any]:
    pool = getattr(transport, "_pool", None)
    return [pool] if pool is not None and hasattr(pool, "_network_backend") else []


def bounded(transport: Any) -> Any:
    """``transport`` with bounded decoding, body size and exchange time (see module doc)."""
    return _Bounded(transport)
