"""Which proxy this client version uses for the gateway URL: pure functions of variable values,
no I/O.

Modelled on undici's EnvHttpProxyAgent and measured on Claude Code 2.1.332
(live-lab-notes.md §8): lower-case variable first; a variable set to "" still
counts as set (undici's ``??``), so it masks the upper-case one and means "no
proxy", on versions whose ``empty_proxy_variable_masks`` is true (2.1.332 skips an
empty variable and takes the next one, measured); an http:// gateway also goes through
HTTPS_PROXY; NO_PROXY entries match the exact host or, with or without a leading
``.``/``*.``, its subdomains; ``*`` only as the whole value; ``host:port`` only for that
port; CIDR blocks only for IP-literal hosts (and only on versions that accept them).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping
from urllib.parse import urlsplit

__all__ = ["PROXY_VARS", "NO_PROXY_VARS", "ALL_VARS", "no_proxy_match", "redact_url",
           "select_proxy", "split_proxy_url", "url_problems"]

PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")
NO_PROXY_VARS = ("no_proxy", "NO_PROXY")
ALL_VARS = PROXY_VARS + NO_PROXY_VARS + ("all_proxy", "ALL_PROXY")


def _host_norm(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _entry_parts(entry: str) -> tuple[str, int | None]:
    """``(host, port)`` of one NO_PROXY entry, undici style."""
    if entry.startswith("["):  # [::1]:443
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        host, port = entry, ""  # bare IPv6 or no port
    host = re.sub(r"^\*?\.", "", host).rstrip(".").lower()
    return host, (int(port) if port.isdigit() else None)


def no_proxy_match(host: str, port: int, value: str | None, *, cidr: bool) -> str | None:
    """The NO_PROXY entry that covers ``host:port``, or None."""
    if value is None:
        return None
    if value.strip() == "*":
        return "*"
    target = _host_norm(host)
    target_ip = _ip(target)
    for raw in re.split(r"[,\s]+", value):
        if not raw:
            continue
        if "/" in raw:
            if cidr and target_ip is not None:
                try:
                    if target_ip in ipaddress.ip_network(raw, strict=False):
                        return raw
                except ValueError:
                    pass
            continue  # undici treats a CIDR as a literal name: it never matches
        entry, entry_port = _entry_parts(raw)
        if not entry or entry == "*" or (entry_port is not None and entry_port != port):
            continue
        if target == entry or (target_ip is None and target.endswith("." + entry)):
            return raw
    return None


def select_proxy(values: Mapping[str, str | None], scheme: str,
                 behaviour: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(variable, value)`` the client takes for a gateway of ``scheme``; the value
    may be ``""`` (set but empty: no proxy) where an empty variable masks the next one."""
    order = list(behaviour.get("proxy_variable_order") or PROXY_VARS)
    if scheme == "http" and not behaviour["proxy_for_http_base_url"]:
        order = [v for v in order if v.lower() == "http_proxy"]
    masks = behaviour.get("empty_proxy_variable_masks", True)
    for var in order:
        value = values.get(var)
        if value is not None and (value != "" or masks):
            return var, value
    return None, None


def split_proxy_url(url: str) -> dict[str, Any]:
    """Parts of a proxy URL after the client's repair of a missing scheme."""
    repaired = url if "://" in url else "http://" + url
    out: dict[str, Any] = {"scheme": None, "host": None, "port": None, "user": "", "password": "",
                           "path": "", "error": None}
    try:
        parts = urlsplit(repaired)
        out.update(scheme=parts.scheme.lower(), host=parts.hostname, path=parts.path,
                   user=parts.username or "", password=parts.password or "")
        default = {"http": 80, "https": 443}.get(out["scheme"], 1080)
        out["port"] = parts.port or default
    except ValueError as exc:
        out["error"] = str(exc)
    if not out["host"] and not out["error"]:
        out["error"] = "no host"
    return out


def redact_url(url: str) -> str:
    """The URL with the password replaced by ``***`` (the user name kept)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority_end = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0]
                        + [len(rest)])
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        userinfo, _, hostport = authority.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        authority = f"{user}:***@{hostport}" if colon else f"{user}@{hostport}"
    elif "@" in tail:
        # An unencoded '/', '?' or '#' in the password ends the authority early; hide
        # everything up to the last '@' so the secret cannot leak through the "path".
        # Keep the user name when what follows its ':' cannot be a port ("user:pa/ss@...").
        _, _, after = tail.rpartition("@")
        user, colon, first = authority.partition(":")
        if colon and user and not first.isdigit():
            return f"{scheme}{sep}{user}:***@{after}"
        return f"{scheme}{sep}***@{after}"
    return f"{scheme}{sep}{authority}{tail}"


def url_problems(var: str, url: str, gateway: Mapping[str, Any]) -> list[dict[str, str]]:
    """Codes for what is wrong with one proxy variable's value (never echoing a password)."""
    problems: list[dict[str, str]] = []

    def add(code: str, detail: str) -> None:
        problems.append({"code": code, "variable": var, "detail": detail})

    if "://" not in url:
        add("no_scheme", "no scheme: the client assumes http://, curl and Python may not")
    parts = split_proxy_url(url)
    scheme = parts["scheme"] or ""
    if scheme.startswith("socks"):
        add("socks", f"{scheme}:// proxies are not supported by the client")
    elif scheme == "https":
        add("https_scheme", "https:// makes the client speak TLS to the proxy; most proxies speak "
            "plain HTTP on their port")
    elif scheme and scheme != "http":
        add("unparseable", f"unknown proxy scheme {scheme}://")
    rest = url.partition("://")[2] or url
    authority_end = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0]
                        + [len(rest)])
    if "@" in rest[authority_end:]:
        add("unencoded_userinfo", "a raw '/', '?' or '#' in the credentials ends the host part "
            "early, so the client connects to the wrong host; percent-encode them (%2F, %3F, %23)")
    elif re.search(r"%(?![0-9A-Fa-f]{2})", rest[:authority_end].rpartition("@")[0]):
        add("unencoded_userinfo",
            "a raw '%' in the credentials is not valid percent-encoding (write %25)")
    if parts["error"]:
        # NOTE: never echo urlsplit's message or host here: with a raw '@' they hold password text.
        add("unparseable", "the URL does not parse (host or port invalid)")
        return problems
    if parts["user"] and not parts["password"]:
        add("user_without_password",
            "a user name without a password: the client sends no credentials at all")
    ghost, gport = str(gateway.get("host") or "").lower(), gateway.get("port")
    if parts["host"] and _host_norm(parts["host"]) == _host_norm(ghost) and parts["port"] == gport:
        add("points_at_gateway",
            f"the proxy is the gateway itself ({ghost}:{gport}); set ANTHROPIC_BASE_URL instead")
    if parts["path"] not in ("", "/"):
        add("has_path", f"a proxy URL has no path; {parts['path']!r} looks like an LLM gateway URL")
    return problems
