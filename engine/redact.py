"""Last line of defence for secrets: find every secret value the scan saw and scrub it from anything emitted."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from .model import Vault

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"(TOKEN|KEY|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION)", re.I)
# Values shorter than this are not scrubbed: "1" or "on" would mangle reports
# without protecting anything.
MIN_SECRET_LEN = 4


def _url_passwords(value: str) -> list[str]:
    out = []
    for token in re.split(r"[\s,]+", value):
        if "@" not in token or "://" not in token:
            continue
        try:
            password = urlsplit(token).password
        except ValueError:
            password = None
        if password:
            out.extend({password, unquote(password)})
        # NOTE: an unencoded '#', '/' or '?' in a password ends the authority early, so
        # urlsplit sees a "port" or a path: take everything between the first ':' of the
        # userinfo and the last '@' as the secret too ("http://u:2024#Spring@proxy:8080").
        rest = token.split("://", 1)[1]
        userinfo = rest[: rest.rfind("@")]
        if ":" in userinfo:
            raw = userinfo.split(":", 1)[1]
            out.extend({raw, unquote(raw)})
    return out


def _header_values(text: str) -> list[str]:
    values = []
    for line in text.replace("\\n", "\n").splitlines():
        if ":" in line:
            value = line.split(":", 1)[1].strip()
            values.append(value)
            if value.lower().startswith("bearer "):
                values.append(value[7:].strip())
    return values


def secret_values(env: Mapping[str, str], vault: Vault | None = None) -> list[str]:
    """Every value that must never appear in output, longest first."""
    found: set[str] = set()
    pairs: list[tuple[str, str]] = list(env.items())
    if vault is not None:
        for name, value in vault.items():
            pairs.append((name.removeprefix("env."), value))
    for name, value in pairs:
        if not value:
            continue
        if name.startswith(("auth.", "proxy.url")) or _SECRET_NAME.search(name):
            if name.upper().endswith("CUSTOM_HEADERS") or name == "auth.custom_headers":
                found.update(_header_values(value))
            elif name != "proxy.url":
                found.add(value)
        found.update(_url_passwords(value))
    return sorted((s for s in found if len(s) >= MIN_SECRET_LEN), key=len, reverse=True)


def scrub(obj: Any, secrets: Iterable[str]) -> Any:
    secrets = [s for s in secrets if s]
    if not secrets:
        return obj
    pattern = re.compile("|".join(re.escape(s) for s in secrets))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(REDACTED, value)
        if isinstance(value, Mapping):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    return walk(obj)
