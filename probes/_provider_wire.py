"""Bedrock and Vertex wire format for the provider model probe: request bodies, SigV4,
event-stream frames, error reading and fault classes. No I/O.

The request shapes are the client's own (tests/capture/test_provider_capture.py): Bedrock
``anthropic_version: bedrock-2023-05-31`` in the body and no ``model`` field (it is in the path);
Vertex ``anthropic_version: vertex-2023-10-16`` and ``stream: true``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["FAULTS", "classify", "eventstream_events", "provider_error", "request_body",
           "sigv4_headers"]

# What a model check can conclude (the ``fault`` of a provider.model_checks entry).
FAULTS = ("ok", "route_not_found", "model_not_offered", "needs_profile", "model_not_in_region",
          "access_denied", "credentials", "quota", "stream_rewritten", "stream_broken",
          "upstream_error", "transport", "other")

_PROMPT = [{"role": "user", "content": "Reply with one word: ok"}]
_CREDENTIAL_ERRORS = {"unrecognizedclientexception", "expiredtokenexception",
                      "invalidsignatureexception", "missingauthenticationtokenexception",
                      "incompletesignatureexception", "unauthenticated", "auth_error",
                      "authentication_error"}


def request_body(mode: str) -> dict[str, Any]:
    if mode == "bedrock":
        return {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 1, "messages": _PROMPT}
    if mode == "mantle":  # the Anthropic Messages API; the model goes in the body
        return {"max_tokens": 1, "stream": True, "messages": _PROMPT}
    return {"anthropic_version": "vertex-2023-10-16", "max_tokens": 1, "stream": True,
            "messages": _PROMPT}


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(method: str, url: str, body: bytes, *, access_key: str, secret_key: str,
                  session_token: str | None, region: str, service: str = "bedrock",
                  now: datetime | None = None) -> dict[str, str]:
    """The AWS Signature Version 4 headers the AWS SDK adds (``authorization``, ``x-amz-date``,
    ``x-amz-content-sha256``, ``x-amz-security-token``) for one request."""
    when = now or datetime.now(timezone.utc)
    stamp, day = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
    parts = urlsplit(url)
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload, "x-amz-date": stamp}
    if session_token:
        headers["x-amz-security-token"] = session_token
    names = sorted(headers)
    # Non-S3 services sign the path as it goes on the wire, URI-encoded once more: the client
    # sends "v1:0" raw (captured), which signs as "v1%3A0"; botocore agrees (tests/provider).
    path = quote(parts.path or "/", safe="/-_.~")
    query = "&".join(sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, _, v in
                            (p.partition("=") for p in parts.query.split("&") if p)))
    canonical = "\n".join([method, path, query,
                           "".join(f"{n}:{headers[n].strip()}\n" for n in names),
                           ";".join(names), payload])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(_sign(_sign(_sign(f"AWS4{secret_key}".encode(), day), region), service),
                "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {k: v for k, v in headers.items() if k != "host"}
    out["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                            f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return out


def eventstream_events(data: bytes) -> tuple[list[str], str | None, bool]:
    """``(anthropic event types, exception type or None, framing ok)`` from Bedrock's
    ``application/vnd.amazon.eventstream`` bytes (as much as arrived)."""
    events: list[str] = []
    offset = 0
    while offset + 12 <= len(data):
        total, head_len = struct.unpack(">II", data[offset:offset + 8])
        if total < 16 or offset + total > len(data):
            break
        if (struct.unpack(">I", data[offset + 8:offset + 12])[0]
                != binascii.crc32(data[offset:offset + 8]) & 0xFFFFFFFF):
            return events, None, False
        headers: dict[str, str] = {}
        pos, end = offset + 12, offset + 12 + head_len
        while pos < end:
            n = data[pos]
            name = data[pos + 1:pos + 1 + n].decode("utf-8", "replace")
            kind = data[pos + 1 + n]
            pos += 2 + n
            if kind == 7:
                (length,) = struct.unpack(">H", data[pos:pos + 2])
                headers[name] = data[pos + 2:pos + 2 + length].decode("utf-8", "replace")
                pos += 2 + length
            else:  # other header value types do not occur in Bedrock's stream
                return events, None, False
        payload = data[end:offset + total - 4]
        offset += total
        if headers.get(":message-type") == "exception":
            return events, headers.get(":exception-type") or "exception", True
        try:
            chunk = json.loads(payload)
            inner = json.loads(base64.b64decode(chunk["bytes"]))
            events.append(str(inner.get("type")))
        except (ValueError, KeyError, TypeError, binascii.Error):
            events.append("unreadable")
    return events, None, True


def provider_error(status: int, headers: Any, body: bytes | None) -> tuple[str | None, str | None]:
    """``(error type, message)`` from an AWS (``x-amzn-errortype`` + ``{"message"}``), Google
    (``{"error": {"status", "message"}}``), LiteLLM/OpenAI or Anthropic error body."""
    etype: str | None = None
    amz = headers.get("x-amzn-errortype") if headers is not None else None
    if amz:
        etype = amz.split(":", 1)[0]
    try:
        data = json.loads(body or b"")
    except ValueError:
        return etype, None
    if not isinstance(data, dict):
        return etype, None
    err = data.get("error")
    if isinstance(err, dict):
        kind = err.get("status") or err.get("type") or err.get("code")
        return (etype or (str(kind) if kind is not None else None),
                str(err.get("message") or "")[:600] or None)
    if isinstance(err, str):
        return etype, err[:600]
    for key in ("message", "Message", "detail"):
        if data.get(key):
            value = data[key]
            return etype, (value if isinstance(value, str) else json.dumps(value))[:600]
    return etype, None


def classify(status: int | None, error: str | None, etype: str | None, message: str | None,
             *, complete: bool = False, rewritten: bool = False) -> str:
    """One of :data:`FAULTS` for a model check."""
    if (error in ("refused", "timeout", "reset", "tls", "proxy", "dns", "protocol")
            and status is None):
        return "transport"
    if status is not None and 200 <= status < 300:
        if rewritten:
            return "stream_rewritten"
        return "ok" if complete else "stream_broken"
    text = f"{etype or ''} {message or ''}".lower()
    kind = (etype or "").lower()
    if (status == 429 or "throttl" in text or "resource_exhausted" in text
            or "quota exceeded" in text):
        return "quota"
    if "on-demand throughput" in text:
        return "needs_profile"
    if (status == 401 or kind in _CREDENTIAL_ERRORS
            or "security token included in the request is invalid" in text
            or "no api key passed" in text or "invalid api key" in text
            # LiteLLM without a database cannot look up a key that is not its master key
            or "no connected db" in text or kind == "no_db_connection"):
        return "credentials"
    if "publisher model" in text and status == 404:
        return "model_not_in_region"
    if (status == 403 or "accessdenied" in kind or "permission_denied" in text
            or "don't have access" in text):
        return "access_denied"
    if status in (400, 404) and ("model identifier is invalid" in text
                                 or "invalid model name" in text
                                 or "model not found" in text or "not_found_error" in kind):
        return "model_not_offered"
    if status in (404, 405):
        return "route_not_found"
    if status is not None and status >= 500:
        return "upstream_error"
    return "other"
