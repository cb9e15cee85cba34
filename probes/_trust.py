"""The client's trust store and client certificate, assembled from the effective env; shared by
_http and tls.

Reads certificate files only (no network). The client (2.1.332, measured) trusts its
bundled Mozilla roots (certifi stands in) plus the system store as OpenSSL defines it,
honouring SSL_CERT_FILE/SSL_CERT_DIR, unless CLAUDE_CODE_CERT_STORE drops one, plus the
PEM certificates in NODE_EXTRA_CA_CERTS. REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE are
ignored by the client; :func:`other_trust` models the tools that do read them.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import ssl
import stat
import threading
import warnings
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import certifi
from gwdoctor.engine import ProbeContext

from ._io import file_type, read_file
from ._lazy import crypto_utils, serialization, x509  # imported on first use
from ._netenv import behaviour, cert_stores, env_source, env_value, shell_value

__all__ = [
    "Trust",
    "client_cert_info",
    "client_ssl_context",
    "client_trust",
    "extra_ca_info",
    "load_cert_file",
    "other_trust",
    "quiet_serial_warning",
    "system_default_paths",
]

_PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.S)
# Where distributions keep the OpenSSL default bundle, first found wins (Debian, RHEL, SUSE,
# Alpine/macOS).
_DEFAULT_FILES = ("etc/ssl/certs/ca-certificates.crt", "etc/pki/tls/certs/ca-bundle.crt",
                  "etc/ssl/ca-bundle.pem", "etc/ssl/cert.pem")
_DEFAULT_DIR = "etc/ssl/certs"


@dataclass
class Trust:
    """Certificates one TLS stack would trust, and where they came from."""

    certs: list[x509.Certificate] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    reject_unauthorized: bool = True
    _seen: set[x509.Certificate] = field(default_factory=set, init=False, compare=False, repr=False)

    def add(self, label: str, certs: list[x509.Certificate]) -> None:
        self.stores.append(label)
        for cert in certs:  # a certificate hashes and compares by its DER
            if cert not in self._seen:
                self._seen.add(cert)
                self.certs.append(cert)


def _parse_pem_blocks(data: bytes) -> list[x509.Certificate]:
    out = []
    quiet_serial_warning()
    for block in _PEM_RE.findall(data):
        try:
            out.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            continue  # one malformed block must not hide the rest of a bundle
    return out


def quiet_serial_warning() -> None:
    # Some roots in certifi and system stores carry a non-positive serial: cryptography
    # warns, the client trusts them. A filter, not catch_warnings(), which is not
    # thread-safe and probes run in threads.
    warnings.filterwarnings("ignore", message="Parsed a serial number",
                            category=crypto_utils.CryptographyDeprecationWarning)


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int, size: int) -> tuple[str, tuple[x509.Certificate, ...]]:
    read = read_file(path, "certificate")  # bounded (_io); the stat check races a swap
    if not read.ok:
        raise OSError(errno.EINVAL, read.problem or "unreadable", path)
    data = read.data or b""
    if b"-----BEGIN CERTIFICATE-----" in data:
        return "pem", tuple(_parse_pem_blocks(data))
    if b"-----BEGIN" in data:
        return "pem", ()  # PEM, but a key or a CSR: no certificate in it
    try:
        quiet_serial_warning()
        return "der", (x509.load_der_x509_certificate(data),)
    except ValueError:
        return "invalid", ()


def load_cert_file(path: str | Path) -> tuple[str, list[x509.Certificate]]:
    """``(kind, certs)``: kind is ``pem``, ``der`` or ``invalid``. Raises OSError."""
    try:
        st = os.stat(path)
    except ValueError:  # a NUL byte in the path
        raise OSError(errno.EINVAL, "invalid path", str(path)) from None
    if not stat.S_ISREG(st.st_mode):  # a FIFO named *.pem would block the open() for ever
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    kind, certs = _load_cached(str(path), st.st_mtime_ns, st.st_size)
    return kind, list(certs)


def _pem_certs(path: Path) -> list[x509.Certificate]:
    try:
        kind, certs = load_cert_file(path)
    except OSError:
        return []
    return certs if kind == "pem" else []


@functools.lru_cache(maxsize=16)
def _load_dir_cached(path: str, mtime_ns: int) -> tuple[x509.Certificate, ...]:
    out: list[x509.Certificate] = []
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return ()
    # Debian's /etc/ssl/certs holds each root three times: a hash link, a .pem link to the
    # same file, and the bundle ca-certificates.crt. Parse each real file once (it was
    # ~430 parses for ~145 roots, a third of a TLS scan's trust-store time).
    seen: set[tuple[int, int]] = set()
    for name in names:
        if name.endswith((".pem", ".crt")) or re.fullmatch(r"[0-9a-f]{8}\.\d+", name):
            full = os.path.join(path, name)
            try:
                st = os.stat(full)  # follows the links: one (device, inode) per real file
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                out.extend(_pem_certs(Path(full)))
    return tuple(out)


def _load_dir(path: Path) -> list[x509.Certificate]:
    try:
        return list(_load_dir_cached(str(path), path.stat().st_mtime_ns))
    except (OSError, ValueError):
        return []


def _resolve(ctx: ProbeContext, value: str) -> Path:
    # NOTE: Node neither expands "~" nor resolves against $HOME: a relative path is
    # relative to the client's working directory.
    path = Path(value)
    return path if path.is_absolute() else ctx.cwd / path


def system_default_paths(ctx: ProbeContext) -> tuple[Path | None, Path | None]:
    """OpenSSL's default CA file and directory under ``ctx.root`` (None when absent)."""
    file = next((ctx.root / f for f in _DEFAULT_FILES if (ctx.root / f).is_file()), None)
    directory = ctx.root / _DEFAULT_DIR
    return file, (directory if directory.is_dir() else None)


def _system_paths(ctx: ProbeContext, honour_env: bool) -> tuple[Path | None, Path | None]:
    file, directory = system_default_paths(ctx)
    if honour_env:
        if env_value(ctx, "SSL_CERT_FILE"):
            file = _resolve(ctx, env_value(ctx, "SSL_CERT_FILE") or "")
        if env_value(ctx, "SSL_CERT_DIR"):
            directory = _resolve(ctx, (env_value(ctx, "SSL_CERT_DIR") or "").split(os.pathsep)[0])
    return file, directory


def extra_ca_info(ctx: ProbeContext) -> dict[str, Any] | None:
    """The ``tls.extra_ca`` fact: NODE_EXTRA_CA_CERTS as configured, and whether this
    version applies it (2.1.332 applies a settings ``env`` value; older versions only
    read the variable the process was started with)."""
    value = env_value(ctx, "NODE_EXTRA_CA_CERTS")
    if not value:
        return None
    source = env_source(ctx, "NODE_EXTRA_CA_CERTS")
    applied = (source.get("layer") == "shell"
               or bool(behaviour(ctx).get("extra_ca_from_settings_env")))
    info: dict[str, Any] = {"path": value, "source": source, "exists": False, "readable": False,
                            "pem": False, "count": 0, "error": None, "applied": applied,
                            "relative": not Path(value).is_absolute(),
                            "tilde": value.startswith("~"), "resolved": str(_resolve(ctx, value))}
    path = _resolve(ctx, value)
    kind = file_type(path)  # never raises (a 70,000-character value: ENAMETOOLONG)
    if kind is None:
        info["error"] = ("no such file"
                         + (" (the client does not expand ~)" if info["tilde"] else ""))
        return info
    info["exists"] = True
    if kind == "dir":
        info["error"] = "is a directory, not a PEM file"
        return info
    try:
        kind, certs = load_cert_file(path)
    except OSError as exc:
        info["error"] = f"unreadable: {exc.strerror or exc}"
        return info
    info["readable"] = True
    info["pem"] = kind == "pem"
    if kind == "der":
        info["error"] = "DER (binary) certificate: the client reads only PEM"
    elif kind == "invalid":
        info["error"] = "not a certificate file (neither PEM nor DER)"
    elif not certs:
        info["error"] = "PEM file without any CERTIFICATE block"
    info["count"] = len(certs) if kind == "pem" else 0
    return info


# One scan's trust store and SSLContext, keyed by the scan's vault: the gateway, auth and
# model probes all need them, and building them (≈290 roots fingerprinted, DER-encoded,
# loaded) cost 0.1-0.3 s each time. The inputs do not change within a scan.
_PER_SCAN: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
_PER_SCAN_LOCK = threading.Lock()


def _per_scan(ctx: ProbeContext, name: str, build: Any) -> Any:
    with _PER_SCAN_LOCK:
        slot = _PER_SCAN.setdefault(ctx.vault, {})
        lock = slot.setdefault(f"{name}.lock", threading.Lock())
    with lock:  # two probes asking at once build it once
        if name not in slot:
            slot[name] = build()
        return slot[name]


def client_trust(ctx: ProbeContext) -> Trust:
    """What the client trusts for this scan's effective environment."""
    return _per_scan(ctx, "trust", lambda: _build_client_trust(ctx))


def _build_client_trust(ctx: ProbeContext) -> Trust:
    trust = Trust()
    beh = behaviour(ctx)
    kinds = cert_stores(ctx)
    if "bundled" in kinds:
        trust.add("bundled", _pem_certs(Path(certifi.where())))
    if "system" in kinds:
        file, directory = _system_paths(ctx, bool(beh["system_store_honours_ssl_cert_file"]))
        if file is not None:
            trust.add(f"system:{file}", _pem_certs(file))
        if directory is not None:
            trust.add(f"system:{directory}", _load_dir(directory))
    info = extra_ca_info(ctx)
    extra = info["path"] if info and info["applied"] else shell_value(ctx, "NODE_EXTRA_CA_CERTS")
    if extra:
        trust.add(f"extra:{extra}", _pem_certs(_resolve(ctx, extra)))
    trust.reject_unauthorized = env_value(ctx, "NODE_TLS_REJECT_UNAUTHORIZED") != "0"
    return trust


def other_trust(ctx: ProbeContext) -> list[tuple[str, str, list[x509.Certificate]]]:
    """``(name, path, certs)`` for what curl and Python trust here: REQUESTS_CA_BUNDLE,
    CURL_CA_BUNDLE and the system bundle (each alone, as each tool uses one)."""
    out = []
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = env_value(ctx, var)
        if value:
            path = _resolve(ctx, value)
            out.append((var, str(path), _pem_certs(path) if file_type(path) == "file"
                        else _load_dir(path)))
    file, directory = system_default_paths(ctx)
    if file is not None:
        out.append(("system", str(file), _pem_certs(file)))
    elif directory is not None:
        out.append(("system", str(directory), _load_dir(directory)))
    return out


def client_cert_info(ctx: ProbeContext) -> dict[str, Any] | None:
    """The ``tls.client_cert`` fact for CLAUDE_CODE_CLIENT_CERT/KEY (None when unset)."""
    cert_value = env_value(ctx, "CLAUDE_CODE_CLIENT_CERT")
    key_value = env_value(ctx, "CLAUDE_CODE_CLIENT_KEY")
    if not cert_value and not key_value:
        return None
    info: dict[str, Any] = {"cert_path": cert_value, "key_path": key_value, "loadable": False,
                            "expired": None, "not_after": None, "error": None}
    if not cert_value:
        info["error"] = "CLAUDE_CODE_CLIENT_KEY is set without CLAUDE_CODE_CLIENT_CERT"
        return info
    cert_path = _resolve(ctx, cert_value)
    try:
        kind, certs = load_cert_file(cert_path)
    except OSError as exc:
        info["error"] = f"certificate file: {exc.strerror or exc}"
        return info
    if kind != "pem" or not certs:
        info["error"] = "certificate file holds no PEM certificate"
        return info
    not_after = certs[0].not_valid_after_utc
    info["not_after"] = not_after.isoformat()
    info["expired"] = not_after < datetime.now(timezone.utc)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    key_path = _resolve(ctx, key_value) if key_value else None
    if key_path is not None:
        # OpenSSL reads the key itself, with no limit: a FIFO or /dev/zero must stop here.
        key_read = read_file(key_path, "key")
        if not key_read.ok:
            info["error"] = f"key file: {key_read.problem}"
            return info
    passphrase = env_value(ctx, "CLAUDE_CODE_CLIENT_KEY_PASSPHRASE")
    try:
        context.load_cert_chain(str(cert_path), str(key_path) if key_path else None,
                                password=_no_prompt(passphrase))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if not passphrase and _encrypted_key(key_path or cert_path):
            reason = "the key is encrypted and CLAUDE_CODE_CLIENT_KEY_PASSPHRASE is not set"
        info["error"] = f"key does not load with the certificate: {reason}"[:200]
        return info
    info["loadable"] = True
    return info


def _no_prompt(passphrase: str | None) -> Any:
    """The passphrase, or a callback giving none: with ``password=None`` OpenSSL asks for an
    encrypted key's passphrase on the terminal and the probe blocks reading it."""
    return passphrase if passphrase else (lambda: b"")


def _encrypted_key(path: Path) -> bool:
    read = read_file(path, "key")
    return read.ok and b"ENCRYPTED" in (read.data or b"")[:4096]


def client_ssl_context(ctx: ProbeContext, trust: Trust | None = None) -> ssl.SSLContext:
    """An SSLContext verifying exactly as the client does (its trust store, its client
    certificate, and no verification at all under NODE_TLS_REJECT_UNAUTHORIZED=0).
    Built once per scan; an SSLContext is safe to share between threads."""
    if trust is not None:
        return _build_ssl_context(ctx, trust)
    return _per_scan(ctx, "ssl_context", lambda: _build_ssl_context(ctx, client_trust(ctx)))


def _build_ssl_context(ctx: ProbeContext, trust: Trust) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Node's default floor
    if trust.certs:
        context.load_verify_locations(
            cadata=b"".join(c.public_bytes(serialization.Encoding.DER) for c in trust.certs))
    if not trust.reject_unauthorized:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    info = client_cert_info(ctx)
    if info and info["loadable"]:
        key = env_value(ctx, "CLAUDE_CODE_CLIENT_KEY")
        context.load_cert_chain(str(_resolve(ctx, info["cert_path"])),  # see _no_prompt
                                str(_resolve(ctx, key)) if key else None,
                                password=_no_prompt(
                                    env_value(ctx, "CLAUDE_CODE_CLIENT_KEY_PASSPHRASE")))
    return context
