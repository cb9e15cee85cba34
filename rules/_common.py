"""Small pure helpers shared by the config and provider rules: wording of sources, no I/O."""

from __future__ import annotations

from typing import Any

__all__ = ["PROXY_VARS", "where", "shown"]

PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")


def where(source: Any) -> str:
    """A ``Source`` in words: ``~/.claude/settings.json (user)`` or ``the shell``."""
    if not isinstance(source, dict):
        return "the built-in default" if source == "default" else "an unknown place"
    if source.get("layer") == "shell":
        return "the shell environment"
    return f"{source.get('file') or '?'} ({source.get('layer')} settings)"


def shown(value: Any) -> str:
    """A config.env value for a message: the text, or a secret's length and fingerprint."""
    if isinstance(value, dict):
        if not value.get("present"):
            return "(unset)"
        return f"<secret, {value.get('length')} chars, {value.get('fingerprint')}>"
    return repr(value)
