"""Certificate chain analysis for the tls probe: describe, verify against a store, name the Node
error, spot vendors.

No I/O except reading the packaged vendor list.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from datetime import datetime, timezone
from typing import Any

from gwdoctor.engine.knowledge import read_builtin

from ._lazy import hashes, x509, x509_oid  # first use
from ._lazy import x509_verification as verification

__all__ = ["chain_incomplete", "describe", "expired", "hostname_matches", "inspection_vendor",
           "is_self_signed", "verify_chain"]


def _utc(cert: x509.Certificate) -> tuple[datetime, datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, Exception):  # InvalidSignature and unsupported key types
        return False


def is_self_signed(cert: x509.Certificate) -> bool:
    return _issued_by(cert, cert)


def _sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return (ext.get_values_for_type(x509.DNSName),
            [str(i) for i in ext.get_values_for_type(x509.IPAddress)])


def _aia_issuers(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_oid(
            x509_oid.ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in ext
            if d.access_method == x509.AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def describe(cert: x509.Certificate) -> dict[str, Any]:
    """One ``tls.chain`` entry."""
    dns, ips = _sans(cert)
    before, after = _utc(cert)
    return {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "sans": dns + [f"IP:{i}" for i in ips], "not_before": before.isoformat(),
            "not_after": after.isoformat(), "self_signed": is_self_signed(cert),
            "is_ca": _is_ca(cert), "sha256": cert.fingerprint(hashes.SHA256()).hex(),
            "aia_ca_issuers": _aia_issuers(cert)}


def expired(chain: list[x509.Certificate], now: datetime | None = None) -> bool:
    now = now or datetime.now(timezone.utc)
    return any(not (b <= now <= a) for b, a in map(_utc, chain))


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard covers one left-most label only (RFC 6125), as Node checks.
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """Node's checkServerIdentity: IP hosts against IP SANs; names against DNS SANs,
    falling back to the subject CN only when the certificate has no DNS SAN."""
    host = host.strip("[]")
    dns, ips = _sans(cert)
    try:
        ip = ipaddress.ip_address(host)
        return any(ipaddress.ip_address(i) == ip for i in ips)
    except ValueError:
        pass
    if dns:
        return any(_dns_match(p, host) for p in dns)
    cns = [a.value for a in cert.subject.get_attributes_for_oid(x509_oid.NameOID.COMMON_NAME)]
    return any(_dns_match(str(cn), host) for cn in cns)


def _anchor(chain: list[x509.Certificate],
            store: list[x509.Certificate]) -> tuple[bool, str | None, x509.Certificate | None]:
    """Walk leaf → issuers as OpenSSL does: ``(trusted, node_code, anchor)``."""
    # Certificates compare and hash by their DER (as a SHA-256 fingerprint would, ~6x
    # cheaper); candidates are looked up by subject instead of trying all ~290 roots.
    members = set(store)
    by_subject: dict[Any, list[x509.Certificate]] = {}
    for cert in store:
        try:
            by_subject.setdefault(cert.subject, []).append(cert)
        except ValueError:  # a subject cryptography cannot parse: it can anchor nothing
            continue
    current, presented = chain[0], chain[1:]
    for _depth in range(12):
        if current in members:
            return True, None, current
        anchor = next((s for s in by_subject.get(current.issuer, ()) if _issued_by(current, s)),
                      None)
        if anchor is not None:
            return True, None, anchor
        nxt = next((p for p in presented if p is not current and _issued_by(current, p)), None)
        if nxt is None or nxt is current:
            break
        current = nxt
    if is_self_signed(current):
        return False, ("DEPTH_ZERO_SELF_SIGNED_CERT" if current is chain[0]
                       else "SELF_SIGNED_CERT_IN_CHAIN"), None
    if current is chain[0]:
        return False, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", None
    return False, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", None


def _strict(chain: list[x509.Certificate], store: list[x509.Certificate], host: str) -> str | None:
    """cryptography's verdict (None = verified), with extension policies relaxed to
    what OpenSSL accepts so only trust, validity and the host name decide."""
    if not store:
        return "empty trust store"
    try:
        subject: Any = verification.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        subject = verification.DNSName(host)
    # cryptography insists that a CA policy requires basicConstraints and a server EE
    # policy requires subjectAltName; everything else is permitted, as OpenSSL does.
    agnostic = verification.Criticality.AGNOSTIC
    ca_policy = (verification.ExtensionPolicy.permit_all()
                 .require_present(x509.BasicConstraints, agnostic, None))
    ee_policy = (verification.ExtensionPolicy.permit_all()
                 .require_present(x509.SubjectAlternativeName, agnostic, None))
    builder = (verification.PolicyBuilder().store(verification.Store(store))
               .time(datetime.now(timezone.utc))
               .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy))
    try:
        builder.build_server_verifier(subject).verify(chain[0], chain[1:])
        return None
    except (verification.VerificationError, ValueError) as exc:
        return str(exc)[:300]


def verify_chain(chain: list[x509.Certificate], store: list[x509.Certificate],
                 host: str) -> dict[str, Any]:
    """``{"trusted", "code", "anchor", "detail"}``. ``trusted``: the chain leads to a
    certificate in ``store`` (validity and host name aside); ``code``: the first error
    Node would report (chain first, then expiry, then the host name), None if accepted."""
    trusted, code, anchor = _anchor(chain, store)
    detail = _strict(chain, store, host)
    if detail is None:  # cryptography built a path (perhaps one the simple walk missed)
        trusted, code = True, None
    elif trusted:
        if expired(chain):
            code = "CERT_HAS_EXPIRED"
        elif not hostname_matches(chain[0], host):
            code = "ERR_TLS_CERT_ALTNAME_INVALID"
    return {"trusted": trusted, "code": code,
            "anchor": anchor.subject.rfc4514_string() if anchor is not None else None,
            "detail": detail if code else None}


def chain_incomplete(chain: list[x509.Certificate], stores: list[list[x509.Certificate]]) -> bool:
    """The server left out an intermediate: the top presented certificate is not
    self-signed, no store knows its issuer, and it names where to fetch the issuer
    (AIA caIssuers, which public CAs always set and browsers follow)."""
    top = chain[-1]
    if is_self_signed(top) or not _aia_issuers(top):
        return False
    return not any(_issued_by(top, s) for store in stores for s in store)


@functools.lru_cache(maxsize=1)
def _vendors() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    data = read_builtin("tls_vendors.yaml")
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return tuple((v["vendor"], v["kind"], re.compile(v["match"], re.I)) for v in data["vendors"])


def inspection_vendor(chain: list[x509.Certificate]) -> tuple[str | None, str | None, str | None]:
    """``(vendor, kind, matched name)`` for a known TLS-inspection CA among the issuers
    (and the subjects of CA certificates) of the presented chain."""
    names = [c.issuer.rfc4514_string() for c in chain]
    names += [c.subject.rfc4514_string() for c in chain if _is_ca(c)]
    for vendor, kind, pattern in _vendors():
        for name in names:
            if pattern.search(name):
                return vendor, kind, name
    return None, None, None


