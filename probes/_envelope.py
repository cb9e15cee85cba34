"""Read gateway answers safely: both error envelopes, HTML titles, excerpts with echoed
credentials removed.

Pure text handling, no I/O. Every string that leaves this module is capped at 300
characters and scrubbed: gateways echo parts of the key they were sent (LiteLLM:
``Received API Key = sk-wro****``, ``Received=sk-1****5678``, ``Key Hash (Token) =262b78...``).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Iterable

__all__ = ["EXCERPT_LIMIT", "excerpt", "html_title", "looks_like_html", "parse_error", "scrub"]

EXCERPT_LIMIT = 300

_ECHO_PATTERNS = [
    # LiteLLM: "Received API Key = sk-wro****", "Received=sk-1****5678",
    # "Key Hash (Token) =262b78..."
    (re.compile(r"(Received API Key\s*=\s*)\S+", re.I), r"\1<redacted>"),
    (re.compile(r"(Received\s*=\s*)[^\s,]+", re.I), r"\1<redacted>"),
    (re.compile(r"(Key Hash \(Token\)\s*=\s*)[^\s,]+", re.I), r"\1<redacted>"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=*\-]{4,}", re.I), r"\1<redacted>"),
    (re.compile(r"(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+", re.I), r"\1<redacted>"),
    # Key-shaped tokens anywhere: sk-..., sk-ant-..., key fragments with masks.
    (re.compile(r"\bsk-[A-Za-z0-9_\-*.]{3,}", re.I), "sk-<redacted>"),
]
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _pieces(secret: str) -> set[str]:
    """The secret, and the prefixes (6+) and suffixes (8+) an echo may show of it."""
    out = {secret}
    if len(secret) >= 10:
        # gateways echo a masked prefix ("sk-wro****"); take the longest one present, or a
        # 6-character mask would leave the rest of a longer echo ("-api03-Q7x9...") behind
        out.update(secret[:k] for k in range(6, len(secret)))
    if len(secret) >= 16:
        out.update(secret[-k:] for k in range(8, len(secret)))
    return out


def scrub(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """``text`` with every known secret, its echoed prefixes and suffixes, and every echoed
    key fragment replaced.

    Matches regardless of case: a gateway that upper-cases the token it echoes must not
    get 26 of its 32 characters past a case-sensitive replace of the first 6."""
    if text is None:
        return None
    lowered = text.lower()
    found = {p for s in secrets if s and len(s) >= 4 for p in _pieces(s) if p.lower() in lowered}
    if found:
        # Longest first, one pass: at each position the longest piece present wins.
        pattern = re.compile("|".join(re.escape(p) for p in sorted(found, key=len, reverse=True)),
                             re.I)
        text = pattern.sub("<redacted>", text)
    for pattern, repl in _ECHO_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _cap(text: str, limit: int = EXCERPT_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def looks_like_html(body: bytes | str, content_type: str | None = None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = (body[:512].decode("utf-8", "replace") if isinstance(body, bytes) else body[:512])
    head = head.lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or "<title" in head


def html_title(body: bytes | str) -> str | None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    match = _TITLE.search(text[:65536])
    if not match:
        return None
    title = _SPACE.sub(" ", html.unescape(match.group(1))).strip()
    return _cap(title, 120) or None


def excerpt(body: bytes | str | None, content_type: str | None = None,
            secrets: Iterable[str] = ()) -> str | None:
    """A short, scrubbed, single-paragraph view of a body (HTML reduced to its title and text)."""
    if not body:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if looks_like_html(text, content_type):
        title = html_title(text)
        words = _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", text[:8192]))).strip()
        text = f"[html] {title}: {words}" if title else f"[html] {words}"
    else:
        text = _SPACE.sub(" ", text[:4096])
    # Scrub, then cut: cut first, an echo across the limit left the token's first 19
    # characters, which no longer matched the whole secret.
    return _cap(scrub(text, secrets) or "")


def _message_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        # LiteLLM nests: {"message": {"error": "...Invalid model name..."}}
        for key in ("message", "error", "detail"):
            if key in value:
                return _message_text(value[key])
    return json.dumps(value)[:EXCERPT_LIMIT]


def parse_error(body: bytes | str | None,
                secrets: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """``(error_type, error_message)`` from the Anthropic envelope
    (``{"type":"error","error":{"type","message"}}``), the OpenAI envelope
    (``{"error":{"message","type","code"}}``), FastAPI's ``{"detail": ...}`` or a bare
    ``{"error": "..."}``; ``(None, None)`` when the body is none of these."""
    if not body:
        return None, None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return None, None
    etype: Any = None
    message: Any = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            etype = err.get("type") or err.get("code")
            message = _message_text(err.get("message", err.get("error")))
        elif isinstance(err, str):
            message = err
        elif "detail" in data:
            message = _message_text(data["detail"])
            etype = "detail"
        elif "message" in data and isinstance(data["message"], str):
            message = data["message"]
            etype = data.get("type") or data.get("code")
    elif isinstance(data, str):
        message = data
    if etype is not None and not isinstance(etype, str):
        etype = str(etype)
    if etype in ("None", ""):
        etype = None
    if message is None and etype is None:
        return None, None
    return (_cap(scrub(etype, secrets) or "", 80) if etype else None,
            _cap(scrub(message, secrets) or "") if message else None)
