"""A real squid (Debian squid-openssl) on loopback: Basic auth, one refused destination port, and
an ssl-bump port.

One process serves both ports; it starts in well under a second. Failures raise with
squid's own log, never skip: a missing squid is a broken test machine.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ._listen import wait_listening

__all__ = ["BUMP_CA_NAME", "Squid", "start_squid"]

SQUID = os.environ.get("GWDOCTOR_SQUID", "/usr/sbin/squid")
LIBEXEC = Path(os.environ.get("GWDOCTOR_SQUID_LIBEXEC", "/usr/lib/squid"))
# Named like a real inspection vendor's CA so vendor detection is tested end to end.
BUMP_CA_NAME = "Zscaler Intermediate Root CA (gwdoctor lab)"


@dataclass
class Squid:
    proc: subprocess.Popen
    dir: Path
    port: int
    bump_port: int
    blocked_port: int
    user: str
    password: str
    bump_ca_pem: Path

    def url(self, *, credentials: bool = True, password: str | None = None,
            port: int | None = None) -> str:
        if not credentials:
            return f"http://127.0.0.1:{port or self.port}"
        pw = quote(password if password is not None else self.password, safe="")
        return f"http://{quote(self.user, safe='')}:{pw}@127.0.0.1:{port or self.port}"

    @property
    def bump_url(self) -> str:
        return f"http://127.0.0.1:{self.bump_port}"

    def log_tail(self, name: str = "cache.log", lines: int = 30) -> str:
        try:
            return "\n".join((self.dir / name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        # squid runs in its own process group (its kid and helpers too): signal the group,
        # so nothing outlives the fixture even when the parent has to be killed.
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # helpers that ignored SIGTERM
        except ProcessLookupError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bump_ca(directory: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Zscaler Inc. (gwdoctor lab)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, BUMP_CA_NAME)])
    now = dt.datetime.now(dt.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    pem = directory / "bump_ca.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "bump_ca.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    return pem


def _passwd(path: Path, user: str, password: str) -> None:
    if shutil.which("htpasswd"):
        subprocess.run(["htpasswd", "-b", "-c", "-m", str(path), user, password], check=True,
                       capture_output=True, timeout=10)
        return
    hashed = subprocess.run(["openssl", "passwd", "-apr1", password], check=True,
                            capture_output=True, text=True, timeout=10).stdout.strip()
    path.write_text(f"{user}:{hashed}\n")


def _config(d: Path, port: int, bump_port: int, blocked_port: int, upstream_ca: Path) -> str:
    return f"""
http_port 127.0.0.1:{port}
http_port 127.0.0.1:{bump_port} ssl-bump tls-cert={d}/bump_ca.pem tls-key={d}/bump_ca.key \
generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program {LIBEXEC}/security_file_certgen -s {d}/ssl_db -M 4MB
sslcrtd_children 3 startup=1 idle=1
tls_outgoing_options cafile={upstream_ca}
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log
coredump_dir {d}
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 0 seconds
visible_hostname gwdoctor-lab
netdb_filename none
auth_param basic program {LIBEXEC}/basic_ncsa_auth {d}/passwd
auth_param basic realm LabCorpProxy
auth_param basic children 2 startup=1 idle=1
acl authed proxy_auth REQUIRED
acl bump_port localport {bump_port}
acl blocked_port port {blocked_port}
http_access allow bump_port
http_access deny !authed
http_access deny blocked_port
http_access allow localhost authed
http_access deny all
"""


def start_squid(upstream_ca: Path, user: str, password: str) -> Squid:
    """Start squid and wait until both ports accept connections (≤10 s)."""
    if not Path(SQUID).exists():
        raise RuntimeError(f"squid not found at {SQUID}: install squid-openssl (CI's .ci/run does)")
    # NOTE: not under pytest's tmp (mode 0700 under /tmp/pytest-of-root): squid drops
    # to the `proxy` user when run as root, and its helpers must reach these files.
    d = Path(tempfile.mkdtemp(prefix="gwdoctor-squid-"))
    os.chmod(d, 0o755)
    port, bump_port, blocked_port = _free_port(), _free_port(), _free_port()
    bump_ca = _bump_ca(d)
    shutil.copy(upstream_ca, d / "upstream_ca.pem")
    _passwd(d / "passwd", user, password)
    subprocess.run([str(LIBEXEC / "security_file_certgen"), "-c", "-s", str(d / "ssl_db"),
                    "-M", "4MB"], check=True, capture_output=True, timeout=20)
    conf = d / "squid.conf"
    conf.write_text(_config(d, port, bump_port, blocked_port, d / "upstream_ca.pem"))
    if os.geteuid() == 0:
        proxy = pwd.getpwnam("proxy")
        for path in [d, *d.rglob("*")]:
            os.chown(path, proxy.pw_uid, proxy.pw_gid)
    with open(d / "stderr.log", "wb") as err_file:  # a pipe nobody drains could block squid
        proc = subprocess.Popen([SQUID, "-N", "-f", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=err_file, cwd=d, start_new_session=True)
    squid = Squid(proc, d, port, bump_port, blocked_port, user, password, bump_ca)
    wait_listening(squid, proc, {port, bump_port}, "squid")
    return squid
