"""A DNS filter that sinkholes every name, for scenarios with ``options: {dns: sinkhole}``.

Run as a wrapper inside a fresh network and mount namespace (``unshare --net --mount``, root in
the lab): it brings the namespace's loopback up, answers DNS on 127.0.0.1:53 the way Pi-hole's
default blocking mode (NULL) and other DNS filters answer a blocked name (A ``0.0.0.0``,
AAAA ``::``, NOERROR), bind-mounts a resolv.conf naming it over /etc/resolv.conf for this
namespace only, and runs the command after ``--`` (the scan or ``claude -p``) with its output and
exit status passed through. Nothing leaves the namespace; the machine's resolver is untouched.

    unshare --net --mount python tests/scenarios/_dns_sinkhole.py -- getent ahosts llm.corp.example
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["PREFIX", "answer", "main"]

PREFIX = ["unshare", "--net", "--mount", sys.executable, str(Path(__file__).resolve()), "--"]
_A, _AAAA = 1, 28
_TTL = 2


def answer(query: bytes) -> bytes:
    """The sinkhole's reply to one DNS query: its question echoed, and for A/AAAA one record
    of the unspecified address (other types: NOERROR, no records)."""
    (ident,) = struct.unpack("!H", query[:2])
    end = 12
    while query[end]:
        end += query[end] + 1
    qtype, _qclass = struct.unpack("!HH", query[end + 1:end + 5])
    question = query[12:end + 5]
    data = {_A: socket.inet_pton(socket.AF_INET, "0.0.0.0"),
            _AAAA: socket.inet_pton(socket.AF_INET6, "::")}.get(qtype)
    # QR, opcode 0, RD copied, RA; rcode 0 (NOERROR), as a filter answers a blocked name.
    flags = 0x8180 | (struct.unpack("!H", query[2:4])[0] & 0x0100)
    header = struct.pack("!HHHHHH", ident, flags, 1, 1 if data else 0, 0, 0)
    record = b""
    if data:
        record = struct.pack("!HHHIH", 0xC00C, qtype, 1, _TTL, len(data)) + data
    return header + question + record


def _serve_udp(sock: socket.socket) -> None:
    while True:
        query, peer = sock.recvfrom(4096)
        try:
            sock.sendto(answer(query), peer)
        except (IndexError, struct.error):
            continue  # not a DNS query: a filter drops it too


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 53))
    threading.Thread(target=_serve_udp, args=(sock,), daemon=True, name="dns-sinkhole").start()
    with tempfile.NamedTemporaryFile("w", prefix="resolv-sinkhole-", suffix=".conf") as conf:
        conf.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        conf.flush()
        subprocess.run(["mount", "--bind", conf.name, "/etc/resolv.conf"], check=True)
        return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
