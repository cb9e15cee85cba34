"""The hostile behaviours of issue 13, each a connection handler for ``_hostile.serve``."""

from __future__ import annotations

import functools
import gzip
import socket
import time
import zlib

from ._hostile import respond

INFLATED = 2**28  # 256 MiB once every layer is undone: above the 200 MB bound, quick to build


@functools.lru_cache(maxsize=None)
def gzip_bomb(layers: int) -> bytes:
    """256 MiB of zeros, gzip-compressed ``layers`` times (~250 KB for one layer, ~1 KB for two)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(2**20)
    data = b"".join(comp.compress(block) for _ in range(INFLATED // len(block))) + comp.flush()
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


def bomb(layers: int):
    body = gzip_bomb(layers)  # built before serving: ~3 s, longer than a probe waits

    def handler(conn: socket.socket, head: bytes) -> None:
        respond(conn, "200 OK", {"content-type": "application/json",
                                 "content-encoding": ", ".join(["gzip"] * layers)},
                body)
    return handler


def huge_body(conn: socket.socket, head: bytes) -> None:
    """A 1 GiB JSON-ish body, sent as fast as the reader takes it."""
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"content-length: %d\r\n\r\n" % 2**30)
    chunk = b" " * 65536
    for _ in range(2**30 // len(chunk)):
        conn.sendall(chunk)


def endless_stream(conn: socket.socket, head: bytes) -> None:
    """Chunked SSE that never ends: a ping event after another, forever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                 b"transfer-encoding: chunked\r\n\r\n")
    event = b"event: ping\ndata: {\"type\": \"ping\"}\n\n"
    piece = b"%x\r\n%s\r\n" % (len(event), event)
    while True:
        conn.sendall(piece * 64)


def drip(conn: socket.socket, head: bytes) -> None:
    """One byte of a status line every 0.2 s, for ever (never trips a per-read timeout)."""
    for byte in b"HTTP/1.1 200 OK\r\nx-drip: " + b"a" * 10**6:
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


def redirect_loop(conn: socket.socket, head: bytes) -> None:
    path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
    respond(conn, "302 Found", {"location": path + "x"}, b"")


def cross_host_redirect(conn: socket.socket, head: bytes) -> None:
    respond(conn, "307 Temporary Redirect", {"location": "http://198.51.100.7/v1/models"}, b"")


def huge_headers(conn: socket.socket, head: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"x-pad: " + b"a" * 8000 + b"\r\n"
    for _ in range(20000):  # 160 MB of headers
        conn.sendall(line)


def tls_garbage(conn: socket.socket, head: bytes) -> None:
    conn.sendall(b"\x16\x03\x01\x00\x10" + b"\xff" * 4096)


def reset_mid_handshake(conn: socket.socket, head: bytes) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def connect_then_garbage(conn: socket.socket, head: bytes) -> None:
    """A proxy that accepts CONNECT and then sends noise instead of the tunnelled bytes."""
    if head.startswith(b"CONNECT"):
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        time.sleep(0.2)
        conn.sendall(b"\x00garbage\xff" * 512)
        time.sleep(1)
    else:
        respond(conn, "400 Bad Request", {}, b"")


def connect_then_drip(conn: socket.socket, head: bytes) -> None:
    """A proxy that accepts CONNECT, then drips through the tunnel for ever."""
    if head.startswith(b"CONNECT"):
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        drip(conn, b"")
    else:
        drip(conn, head)
