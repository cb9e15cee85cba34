"""Turn the effective env and merged settings into gateway, auth, provider and model facts.
No I/O."""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from gwdoctor.engine import describe_secret

from ._route import (
    redact_url,  # one redaction for every URL (an unencoded '#' in a password leaked here)
)
from ._secret_names import config_env_secret, config_env_url
from ._settings import truthy

__all__ = ["auth_facts", "env_fact", "gateway_facts", "is_secret", "model_facts",
           "provider_facts", "redact_url"]

# Names the knowledge file does not list are judged by their shape (knowledge/secrets.yaml).
# Variables the client reads even when no settings file names them (plus every settings env key).
_CLIENT_PREFIXES = ("ANTHROPIC_", "CLAUDE_CODE_", "AWS_", "VERTEX_REGION_", "GOOGLE_", "GCLOUD_",
                    "DISABLE_PROMPT_CACHING")
_PROVIDERS = (("CLAUDE_CODE_USE_BEDROCK", "bedrock"), ("CLAUDE_CODE_USE_VERTEX", "vertex"),
              ("CLAUDE_CODE_USE_FOUNDRY", "foundry"), ("CLAUDE_CODE_USE_MANTLE", "mantle"))
ALIASES = ("opus", "sonnet", "haiku")


def client_reads(var: str, known: Mapping[str, Any]) -> bool:
    return var in known or var.startswith(_CLIENT_PREFIXES)


def is_secret(var: str, known: Mapping[str, Any]) -> bool:
    if var in known:
        return bool(known[var]["secret"])
    return bool(config_env_secret().search(var.upper()))


def env_fact(eff: Mapping[str, dict[str, Any]], known: Mapping[str, Any],
             settings_vars: set[str]) -> dict[str, Any]:
    """``config.env``: every variable the client reads, with its source and what it overrode."""
    def show(var: str, raw: str) -> Any:
        if is_secret(var, known):
            return describe_secret(raw)
        if known.get(var, {}).get("redact") == "url" or config_env_url().search(var):
            return redact_url(raw)
        return raw

    out: dict[str, Any] = {}
    for var in sorted(eff):
        if not (client_reads(var, known) or var in settings_vars):
            continue
        item = eff[var]
        out[var] = {"value": show(var, item["raw"]), "secret": is_secret(var, known),
                    "source": item["source"],
                    "overridden": [{"source": o["source"], "value": show(var, o["raw"])}
                                   for o in item["overridden"]]}
    return out


def _raw(eff: Mapping[str, dict[str, Any]], var: str) -> str | None:
    item = eff.get(var)
    return item["raw"] if item and item["raw"] != "" else None


def _src(eff: Mapping[str, dict[str, Any]], var: str) -> dict[str, Any] | None:
    item = eff.get(var)
    return item["source"] if item else None


_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def url_suggestion(url: str) -> dict[str, str]:
    """Best-effort scheme, host and port of an unusable base URL, placeholders where unreadable
    (what CFG012's fix proposes)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        scheme, rest = "", url.strip()
    rest = re.split(r"[/?#]", rest.rpartition("@")[2] if "@" in rest.split("/")[0] else rest)[0]
    if rest.startswith("[") and "]" in rest:
        host, _, port = rest.partition("]")
        host, port = host + "]", port.lstrip(":")
    else:
        host, _, port = rest.partition(":")
    host = host if _HOST.fullmatch(host) else "<host>"
    port = port if port.isdigit() and 0 < int(port) < 65536 else "<port>"
    return {"scheme": "http" if scheme.lower() == "http" else "https", "host": host, "port": port}


def gateway_facts(eff: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    facts = _gateway_facts(eff)
    url = str(facts["gateway.base_url"] or "")
    if not facts["gateway.url_error"] and facts["gateway.custom"] and re.search(r"\s", url):
        facts["gateway.url_error"] = "it contains a space"
    facts["gateway.url_suggestion"] = url_suggestion(url) if facts["gateway.url_error"] else None
    return facts


def _gateway_facts(eff: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    raw = _raw(eff, "ANTHROPIC_BASE_URL")
    url = raw.strip() if raw else "https://api.anthropic.com"
    facts: dict[str, Any] = {
        "gateway.base_url": redact_url(url), "gateway.custom": bool(raw and raw.strip()),
        "gateway.base_url_source": _src(eff, "ANTHROPIC_BASE_URL") if raw else None,
        "gateway.scheme": None, "gateway.host": None, "gateway.port": None, "gateway.path": None,
        "gateway.url_error": None,
    }
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        facts["gateway.url_error"] = f"cannot parse the URL: {exc}"
        return facts
    scheme = parts.scheme.lower()
    facts.update({"gateway.scheme": scheme or None, "gateway.host": host,
                  "gateway.port": port or {"https": 443, "http": 80}.get(scheme),
                  "gateway.path": parts.path.rstrip("/")})
    if scheme not in ("http", "https"):
        facts["gateway.url_error"] = (f"scheme {scheme!r} is not http or https" if scheme
                                      else "no http:// or https:// scheme")
    elif not host:
        facts["gateway.url_error"] = "no host name"
    return facts


def split_custom_headers(text: str | None) -> tuple[list[tuple[str, str]], list[int]]:
    """``ANTHROPIC_CUSTOM_HEADERS`` as the client reads it: newline-separated ``Name: Value``.
    Returns the usable ``(name, value)`` pairs and the numbers of the lines it refuses (no
    colon, a name that is not an HTTP token, CR, NUL or a character beyond U+00FF). The fact
    and the probes' requests both come from here, so what is reported is what is sent."""
    pairs: list[tuple[str, str]] = []
    invalid: list[int] = []
    for number, line in enumerate((text or "").split("\n"), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        bad_chars = any(c in "\r\0" or ord(c) > 0xFF for c in line)
        if not sep or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()) or bad_chars:
            invalid.append(number)
            continue
        pairs.append((name.strip(), value.strip()))
    return pairs, invalid


def _parse_headers(text: str | None) -> dict[str, Any]:
    if text is None:
        return {"present": False, "names": [], "invalid_lines": []}
    pairs, invalid = split_custom_headers(text)
    return {"present": True, "names": [n.lower() for n, _ in pairs], "invalid_lines": invalid}


def auth_facts(eff: Mapping[str, dict[str, Any]], mode: str,
               helper_present: bool) -> dict[str, Any]:
    token, key = _raw(eff, "ANTHROPIC_AUTH_TOKEN"), _raw(eff, "ANTHROPIC_API_KEY")
    oauth = _raw(eff, "CLAUDE_CODE_OAUTH_TOKEN")
    if mode != "anthropic":
        cred, headers = "provider", []
    elif token:
        cred = "ANTHROPIC_AUTH_TOKEN"
        headers = ["authorization", "x-api-key"] if key else ["authorization"]
    elif key:
        cred, headers = "ANTHROPIC_API_KEY", ["x-api-key"]
    elif helper_present:
        cred, headers = "apiKeyHelper", ["authorization", "x-api-key"]
    elif oauth:
        cred, headers = "CLAUDE_CODE_OAUTH_TOKEN", ["authorization"]
    else:
        cred, headers = None, []
    return {
        "auth.token": {**describe_secret(token), "source": _src(eff, "ANTHROPIC_AUTH_TOKEN")},
        "auth.api_key": {**describe_secret(key), "source": _src(eff, "ANTHROPIC_API_KEY")},
        "auth.oauth_token": describe_secret(oauth),
        "auth.custom_headers": _parse_headers(_raw(eff, "ANTHROPIC_CUSTOM_HEADERS")),
        "auth.headers": headers,
        "auth.credential_source": cred,
    }


def provider_facts(eff: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    for var, mode in _PROVIDERS:
        if truthy(_raw(eff, var)):
            return {"provider.mode": mode, "provider.mode_source": _src(eff, var)}
    return {"provider.mode": "anthropic", "provider.mode_source": None}


def _vertex_id(model: str) -> str:
    # Vertex spells dated ids with '@': claude-sonnet-4-5-20250929 -> claude-sonnet-4-5@20250929.
    return re.sub(r"^(claude-[a-z0-9-]+?)-(\d{8})$", r"\1@\2", model)


def today() -> str:
    import datetime

    return datetime.date.today().isoformat()


def retired_on(model: str, behaviour: Mapping[str, Any]) -> str | None:
    """The date this version says ``model`` was retired ("<Model> was retired on <date>"), if
    any: a key matches the id itself or followed by a -YYYYMMDD date or -latest (captured:
    claude-sonnet-4 covers claude-sonnet-4-20250514, not claude-sonnet-4-5)."""
    for key, date in (behaviour.get("retired_models") or {}).items():
        if re.fullmatch(re.escape(str(key)) + r"(-\d{8}|-latest)?", model.strip().lower()):
            return str(date)
    return None


def model_facts(eff: Mapping[str, dict[str, Any]], settings_model: tuple[Any, Any],
                behaviour: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """``model.requested``: what the client will put in ``"model"`` for each role.

    As captured from the client (tests/capture/test_models.py): with no model set it sends the
    model of its default alias (``default_main_alias``, opus on 2.1.197 and 2.1.332), so
    ``ANTHROPIC_DEFAULT_OPUS_MODEL`` changes the default main model too; each alias reads only
    its own variables (``ANTHROPIC_SMALL_FAST_MODEL`` does not change ``--model haiku``); legacy
    ids are remapped before sending unless ``CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP`` is set.
    Every entry says whether the configuration selects it (``in_use``): the main model and
    the background model are sent; an alias is sent only when someone picks it.
    """
    defaults = behaviour.get("default_models") or {}
    remap = {} if truthy(_raw(eff, "CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP")) else (
        behaviour.get("legacy_remap") or {})
    # No fallback in code: the variables each alias reads are knowledge, per version.
    alias_vars: Mapping[str, list[str]] = behaviour.get("alias_variables") or {}
    background_vars = behaviour.get("background_variables") or []
    default_alias = str(behaviour.get("default_main_alias") or "sonnet")

    provider_defaults = (behaviour.get("provider_default_models") or {}).get(mode) or {}

    def default(role: str) -> str:
        # Provider mode has its own default ids for some aliases (captured per version).
        if role in provider_defaults:
            return str(provider_defaults[role])
        value = str(defaults.get(role, ""))
        return (_vertex_id(value) if mode == "vertex" and behaviour.get("vertex_at_model_ids")
                else value)

    def first_set(names: Any) -> tuple[str, Any] | None:
        for var in names or ():
            if _raw(eff, var):
                return str(_raw(eff, var)).strip(), _src(eff, var)
        return None

    def alias(name: str) -> tuple[str, Any]:
        return first_set(alias_vars.get(name)) or (default(name), "default")

    def sent(configured: str) -> tuple[str, bool]:
        for old, new in remap.items():
            if re.fullmatch(re.escape(old) + r"(-\d{8})?", configured):
                return str(new), True
        return configured, False

    def entry(role: str, configured: str, src: Any) -> dict[str, Any]:
        base = configured.strip()
        key = re.sub(r"\[1m\]$", "", base.lower())
        if key in ALIASES:
            base = alias(key)[0]
        elif key == "opusplan":
            # In -p there is no plan mode: opusplan sends the sonnet alias (captured).
            base = alias("sonnet")[0]
        elif key == "default":
            base = alias(default_alias)[0]
        out, remapped = sent(base)
        return {"role": role, "configured": configured, "sent": out, "source": src,
                "remapped": remapped, "retired_on": (when := retired_on(out, behaviour)),
                # As of this scan's clock: the client itself says "will be retired" before.
                "retired": bool(when) and str(when) <= today()}

    value, layer = settings_model
    if _raw(eff, "ANTHROPIC_MODEL"):
        main = entry("main", str(_raw(eff, "ANTHROPIC_MODEL")), _src(eff, "ANTHROPIC_MODEL"))
    elif isinstance(value, str) and value.strip():
        main = entry("main", value, layer.src)
    elif _raw(eff, "ANTHROPIC_DEFAULT_MODEL"):
        main = entry("main", str(_raw(eff, "ANTHROPIC_DEFAULT_MODEL")),
                     _src(eff, "ANTHROPIC_DEFAULT_MODEL"))
    else:
        main = entry("main", default_alias, "default")
    main_key = re.sub(r"\[1m\]$", "", str(main["configured"]).strip().lower())
    selected = {"opus", "sonnet"} if main_key == "opusplan" else {main_key}
    requested = [dict(main, in_use=True)]
    for name in ALIASES:
        configured, src = alias(name)
        requested.append(dict(entry(name, configured, src), in_use=name in selected,
                              explicit=src != "default"))
    bg_configured, bg_src = first_set(background_vars) or (default("haiku"), "default")
    requested.append(dict(entry("background", bg_configured, bg_src), in_use=True,
                          explicit=bg_src != "default"))
    return {"model.requested": requested,
            "model.distinct": sorted({r["sent"] for r in requested if r["sent"]})}
