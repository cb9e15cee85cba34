"""Loopback servers for the network tests: TLS servers with good and broken certificates, plain
HTTP, tarpit, closed port.

Every server binds 127.0.0.1 only, starts in milliseconds and is closed by its fixture.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

__all__ = ["LoopbackServer", "Pki", "closed_port", "make_pki", "plain_http_handler",
           "tarpit_handler", "tls_handler"]

BODY = b'{"status":"ok","server":"gwdoctor-test"}'


class LoopbackServer:
    """A listening socket on 127.0.0.1 with one daemon thread per connection."""

    def __init__(self, handler: Callable[[socket.socket], None], name: str) -> None:
        self.name = name
        self._handler = handler
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"test-{name}", daemon=True)
        self._thread.start()

    def url(self, scheme: str = "https", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}"

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self._handler(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            if not getattr(self._handler, "keep_open", False):
                conn.close()

    def close(self) -> None:
        self._closed.set()
        self._sock.close()
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass


def _read_head(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _answer(conn: socket.socket) -> None:
    head = _read_head(conn)
    if not head:
        return
    if not head.split(b" ", 1)[0].isalpha():
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: gwdoctor-test\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY)


def tls_handler(context: ssl.SSLContext) -> Callable[[socket.socket], None]:
    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        with context.wrap_socket(conn, server_side=True) as tls:
            _answer(tls)
    return handle


def plain_http_handler(conn: socket.socket) -> None:
    # Like nginx and uvicorn: a TLS ClientHello gets "400 Bad Request" at once.
    conn.settimeout(5)
    first = conn.recv(4096)
    if not first:
        return
    if not first.split(b" ", 1)[0].isalpha():
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    if b"\r\n\r\n" not in first:
        _read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % len(BODY) + BODY)


def tarpit_handler(conn: socket.socket) -> None:
    """Accept and never answer; the connection stays open until the server closes."""


tarpit_handler.keep_open = True  # type: ignore[attr-defined]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Pki:
    """Certificates for the TLS servers, written under ``root``."""

    root: Path
    ca: trustme.CA
    ca_pem: Path
    der_ca: Path
    files: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # name -> (chain pem,
                                                                       # key pem)

    def server_context(self, name: str) -> ssl.SSLContext:
        chain, key = self.files[name]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(chain), str(key))
        return ctx


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _self_signed(names: list[str], days: int = 30) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = dt.datetime.now(dt.timezone.utc)
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n)
            for n in names]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def _leaf_with_aia(issuer: trustme.CA, names: list[str]) -> tuple[bytes, bytes]:
    """A leaf signed by ``issuer`` that says where to fetch its issuer (as public CAs do)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    ca_cert = issuer._certificate  # noqa: SLF001 - trustme keeps them private
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n)
            for n in names]
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        AuthorityInformationAccessOID.CA_ISSUERS,
        x509.UniformResourceIdentifier("http://ca.invalid/int.der"))])
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(aia, critical=False)
            .sign(issuer._private_key, hashes.SHA256()))  # noqa: SLF001
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def make_pki(root: Path) -> Pki:
    """A private CA and the server certificates the TLS tests need."""
    root.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="gwdoctor test gateway CA")
    ca_pem = _write(root / "ca.pem", ca.cert_pem.bytes())
    der = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).public_bytes(
        serialization.Encoding.DER)
    pki = Pki(root=root, ca=ca, ca_pem=ca_pem, der_ca=_write(root / "ca.der", der))
    names = ["localhost", "127.0.0.1"]
    now = dt.datetime.now(dt.timezone.utc)
    leaves = {
        "valid": ca.issue_cert(*names),
        "wrong_host": ca.issue_cert("wrong.example.invalid"),
        "expired": ca.issue_cert(*names, not_before=now - dt.timedelta(days=60),
                                 not_after=now - dt.timedelta(days=30)),
    }
    for name, leaf in leaves.items():
        pki.files[name] = (_write(root / f"{name}.pem",
                                  b"".join(p.bytes() for p in leaf.cert_chain_pems)),
                           _write(root / f"{name}.key", leaf.private_key_pem.bytes()))
    cert, key = _self_signed(names)
    pki.files["selfsigned"] = (_write(root / "selfsigned.pem", cert),
                               _write(root / "selfsigned.key", key))
    intermediate = ca.create_child_ca()
    cert, key = _leaf_with_aia(intermediate, names)  # the intermediate is never sent
    pki.files["incomplete"] = (_write(root / "incomplete.pem", cert),
                               _write(root / "incomplete.key", key))
    client = ca.issue_cert("gwdoctor-client", common_name="gwdoctor-client")
    pki.files["client"] = (_write(root / "client.pem", client.cert_chain_pems[0].bytes()),
                           _write(root / "client.key", client.private_key_pem.bytes()))
    expired_client = ca.issue_cert("old-client", not_before=now - dt.timedelta(days=60),
                                   not_after=now - dt.timedelta(days=1))
    pki.files["client_expired"] = (_write(root / "client_expired.pem",
                                          expired_client.cert_chain_pems[0].bytes()),
                                   _write(root / "client_expired.key",
                                          expired_client.private_key_pem.bytes()))
    return pki
