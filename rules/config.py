"""Client-settings rules (CFG001, CFG005-008, CFG012): settings files and the effective env.
Pure functions of facts: no I/O, no os.environ."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._common import PROXY_VARS, shown, where
from ._gw import env_fix


@rule(id="CFG001", name="settings-file-invalid", cause="config.settings_invalid",
      severity=Severity.ERROR, needs=("config.invalid_settings",), confidence=0.95)
def settings_file_invalid(facts: Facts) -> list[Finding]:
    """## What it checks
    A Claude Code settings file (user, project, local or managed) that is not valid
    JSON, has wrong types (`env` not an object of strings), or is over 2 MiB.

    ## Why it matters
    The client skips such a file *whole* ("These settings did not load, so nothing
    in them is in effect"): its base URL, token and proxy settings vanish, and the
    run usually ends in "Not logged in · Please run /login" or a request to the
    wrong host.

    ## Example
    `~/.claude/settings.json` with a trailing comma: `{"env": {"ANTHROPIC_BASE_URL": "http://gw:4000",}}`.

    ## Fix
    Correct the file at the reported line and column; check it with a JSON parser.

    ## Fix safety
    Safe: the file is not in effect today, so fixing it can only restore what it says.
    """
    out = []
    for bad in facts["config.invalid_settings"] or []:
        at = f" at line {bad['line']}, column {bad['column']}" if bad.get("line") else ""
        out.append(Finding(
            message=(f"{bad['path']} ({bad['layer']} settings) is ignored by Claude Code: "
                     f"{bad['message']}{at}"),
            evidence=dict(bad),
            fixes=(Fix(title=f"Find the error in {bad['path']}", safety="safe",
                       snippet=f"python3 -m json.tool '{bad['path']}' >/dev/null"),),
        ))
    return out


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.get("fingerprint") != b.get("fingerprint")
    return a != b


@rule(id="CFG005", name="settings-env-overrides-shell", cause="config.stale_override",
      severity=Severity.WARNING, needs=("config.env",), confidence=0.6)
def settings_env_overrides_shell(facts: Facts) -> list[Finding]:
    """## What it checks
    A variable exported in the shell that a settings `env` block sets to a different
    value.

    ## Why it matters
    Settings `env` blocks beat the shell, so `export ANTHROPIC_BASE_URL=...` has no
    effect while `~/.claude/settings.json` names another (often stale) value; curl
    works with the exported value while the client goes elsewhere.

    ## Example
    The shell exports `ANTHROPIC_BASE_URL=https://new-gw.corp`; `~/.claude/settings.json`
    still has `"ANTHROPIC_BASE_URL": "http://127.0.0.1:8045"`.

    ## Fix
    Delete the entry from the settings file (or make both agree).

    ## Fix safety
    Review: either value may be the intended one; gwdoctor cannot tell which.
    """
    out = []
    for var, item in (facts["config.env"] or {}).items():
        src = item.get("source") or {}
        if src.get("layer") == "shell":
            continue
        shell = [o for o in item.get("overridden") or []
                 if (o.get("source") or {}).get("layer") == "shell"]
        if not shell or not _differs(shell[-1].get("value"), item.get("value")):
            continue
        path = src.get("file") or "settings.json"
        out.append(Finding(
            message=(f"{var} from {where(src)} overrides the exported value: the client uses "
                     f"{shown(item.get('value'))}, not {shown(shell[-1].get('value'))}"),
            evidence={"var": var, "source": src, "value": item.get("value"),
                      "shell_value": shell[-1].get("value")},
            fixes=(Fix(title=f"Remove {var} from {path} so the exported value applies",
                       snippet=f"jq 'del(.env.{var})' '{path}' > '{path}.new' "
                               f"&& mv '{path}.new' '{path}'",
                       target=path),),
        ))
    return out


@rule(id="CFG006", name="empty-value-does-not-unset", cause="config.ignored_setting",
      severity=Severity.WARNING, needs=("config.empty_overrides", "config.env"), confidence=0.85,
      reads=("gateway.host",))
def empty_value_does_not_unset(facts: Facts) -> list[Finding]:
    """## What it checks
    A settings `env` entry set to `""` to cancel a variable the shell exports.

    ## Why it matters
    The client does not unset a variable that way (only `CLAUDE_CODE_USE_*` are read
    as unset when empty): the exported value stays in effect. With a proxy variable
    the gateway request still goes through the shell's proxy and hangs or fails.

    ## Example
    `~/.bashrc` exports `HTTPS_PROXY=http://proxy.corp:8080`; settings.json has
    `"HTTPS_PROXY": ""` because the gateway must be reached directly.

    ## Fix
    Remove the variable from the environment Claude Code starts in (or start it
    with `env -u`), and drop the empty entry.

    ## Fix safety
    Review: other programs started from the same shell may need the variable.
    """
    env = facts["config.env"] or {}
    out = []
    for item in facts["config.empty_overrides"] or []:
        var = item["var"]
        active = env.get(var) or {}
        if not active or active.get("value") in ("", None):
            continue
        is_proxy = var in PROXY_VARS
        unset = " ".join(f"-u {v}" for v in (PROXY_VARS if is_proxy else (var,)))
        host = facts.get("gateway.host")
        fixes = [Fix(title=f"Start Claude Code without {var}", snippet=f"env {unset} claude")]
        if is_proxy and host:
            fixes.append(Fix(title=f"Or bypass the proxy for {host}", safety="safe",
                             snippet=f'export NO_PROXY="{host}${{NO_PROXY:+,$NO_PROXY}}"'))
        out.append(Finding(
            message=(f'{var}: "" in {where(item["source"])} does not unset it; the client still '
                     f"uses {shown(active.get('value'))} from {where(active.get('source'))}"),
            evidence={"var": var, "empty_in": item["source"], "active": active},
            fixes=tuple(fixes),
            severity=Severity.ERROR if is_proxy else None,
        ))
    return out


@rule(id="CFG007", name="extra-ca-in-settings-not-applied", cause="config.ignored_setting",
      severity=Severity.ERROR, needs=("config.env", "client.behaviour"), confidence=0.9,
      reads=("client.version",))
def extra_ca_in_settings_not_applied(facts: Facts) -> Finding | None:
    """## What it checks
    `NODE_EXTRA_CA_CERTS` set only in a settings `env` block, on a client version
    that reads it only from the process environment at start-up.

    ## Why it matters
    `/status` lists the CA file, yet the TLS stack never loads it: every request to
    a gateway or TLS-inspecting proxy signed by that CA fails with
    `SELF_SIGNED_CERT_IN_CHAIN` or `UNABLE_TO_VERIFY_LEAF_SIGNATURE`.

    ## Example
    `~/.claude/settings.json`: `{"env": {"NODE_EXTRA_CA_CERTS": "/etc/ssl/corp-ca.pem"}}` on a
    client older than 2.1.197 (documented in anthropics/claude-code#22512; captured: 2.1.197 and
    2.1.332 apply it, tests/capture/test_trust.py).

    ## Fix
    Export the variable in the shell profile before starting the client, or upgrade
    to a version that applies it from settings.

    ## Fix safety
    Safe: it adds one trusted CA, the one you meant to add.

    ## References
    anthropics/claude-code#22512
    """
    if facts["client.behaviour"].get("extra_ca_from_settings_env", False):
        return None
    item = (facts["config.env"] or {}).get("NODE_EXTRA_CA_CERTS")
    if not item or (item.get("source") or {}).get("layer") == "shell":
        return None
    path = item.get("value")
    shell = [o for o in item.get("overridden") or []
             if (o.get("source") or {}).get("layer") == "shell"]
    if shell and shell[-1].get("value") == path:
        return None
    extra = (f"; the exported {shell[-1]['value']!r} is what loads" if shell else "")
    return Finding(
        message=(f"NODE_EXTRA_CA_CERTS={path} is set in {where(item.get('source'))}, which this "
                 f"client version does not apply to TLS{extra}"),
        evidence={"NODE_EXTRA_CA_CERTS": item, "client.version": facts.get("client.version")},
        fixes=(Fix(title="Export the CA bundle before starting Claude Code", safety="safe",
                   snippet=f"echo 'export NODE_EXTRA_CA_CERTS=\"{path}\"' >> ~/.profile\n"
                           f"export NODE_EXTRA_CA_CERTS=\"{path}\"", target="~/.profile"),
               Fix(title="Or upgrade Claude Code (2.1.332 applies it from settings)",
                   snippet="npm install -g @anthropic-ai/claude-code@latest")),
    )


_PROVIDER_VARS = {"bedrock": ("CLAUDE_CODE_USE_BEDROCK", "ANTHROPIC_BEDROCK_BASE_URL",
                              "CLAUDE_CODE_SKIP_BEDROCK_AUTH"),
                  "vertex": ("CLAUDE_CODE_USE_VERTEX", "ANTHROPIC_VERTEX_BASE_URL",
                             "CLAUDE_CODE_SKIP_VERTEX_AUTH"),
                  "foundry": ("CLAUDE_CODE_USE_FOUNDRY", "ANTHROPIC_FOUNDRY_BASE_URL",
                              "CLAUDE_CODE_SKIP_FOUNDRY_AUTH"),
                  "mantle": ("CLAUDE_CODE_USE_MANTLE", "ANTHROPIC_BEDROCK_MANTLE_BASE_URL",
                             "CLAUDE_CODE_SKIP_MANTLE_AUTH")}


# LiteLLM's pass-through routes (CC:llm-gateway LiteLLM section).
_PASS_THROUGH = {"bedrock": "/bedrock", "vertex": "/vertex_ai/v1"}


@rule(id="CFG008", name="provider-mode-overrides-base-url", cause="config.provider_mode_conflict",
      severity=Severity.ERROR, needs=("provider.mode", "gateway.custom", "config.env"),
      confidence=0.9, reads=("gateway.base_url", "provider.mode_source"))
def provider_mode_overrides_base_url(facts: Facts) -> Finding | None:
    """## What it checks
    `ANTHROPIC_BASE_URL` names a gateway while a `CLAUDE_CODE_USE_*` variable selects
    Bedrock, Vertex, Foundry or Mantle, and no provider base URL is set.

    ## Why it matters
    Provider mode wins: requests go to the cloud provider's own endpoint with cloud
    credentials, and the gateway is never contacted. A stale `CLAUDE_CODE_USE_VERTEX=1`
    in a profile silently bypasses the gateway.

    ## Example
    `ANTHROPIC_BASE_URL=http://litellm:4000` plus `CLAUDE_CODE_USE_BEDROCK=1` left from an
    earlier setup.

    ## Fix
    Unset the provider switch (an empty value in a settings `env` block also works for
    `CLAUDE_CODE_USE_*`), or, to go through the gateway *in* provider mode, set the
    provider's base URL and skip its auth.

    ## Fix safety
    Review: it changes which service receives your prompts.
    """
    mode = facts["provider.mode"]
    if mode == "anthropic" or not facts["gateway.custom"] or mode not in _PROVIDER_VARS:
        return None
    env = facts["config.env"] or {}
    use, base, skip = _PROVIDER_VARS[mode]
    if base in env:
        return None
    url = (env.get("ANTHROPIC_BASE_URL") or {}).get("value") or facts.get("gateway.base_url")
    src = (env.get(use) or {}).get("source") or facts.get("provider.mode_source")
    return Finding(
        message=(f"{use} (from {where(src)}) selects {mode}: requests bypass ANTHROPIC_BASE_URL "
                 f"{url} and go to the provider directly"),
        evidence={"provider.mode": mode, "switch": use, "switch_source": src, "base_url": url},
        fixes=(Fix(title=f"Use the gateway: drop {use}", snippet=f"unset {use}\n"
                   f"# and in a settings env block: \"{use}\": \"\""),
               Fix(title=f"Or reach {mode} through the gateway (LiteLLM pass-through route)",
                   snippet=(f"export {base}='{str(url).rstrip('/')}"
                            f"{_PASS_THROUGH.get(mode, '')}'\nexport {skip}=1"))),
    )


@rule(id="CFG012", name="base-url-unusable", cause="config.base_url_invalid",
      severity=Severity.ERROR, needs=("gateway.url_error", "gateway.base_url_source"),
      confidence=0.95, reads=("gateway.base_url", "gateway.url_suggestion"))
def base_url_unusable(facts: Facts) -> Finding | None:
    """## What it checks
    An `ANTHROPIC_BASE_URL` the client cannot use as an HTTP endpoint: no `http://` or
    `https://` scheme (`gw.corp:4000`), another scheme (`file:///...`), no host, a port
    outside 1-65535 (`:99999`, `:-1`), an unclosed IPv6 bracket (`http://[::1:18011`), or
    a space inside the URL.

    ## Why it matters
    Every request is built by appending `/v1/messages` to this value, so nothing reaches
    the gateway: the client fails before any network traffic (or sends to a nonsense
    host), and DNS, proxy, TLS, auth and model checks have nothing to test.

    ## Example
    `export ANTHROPIC_BASE_URL=litellm.corp:4000` (the scheme left out), or
    `"ANTHROPIC_BASE_URL": "http://127.0.0.1:400000"` in settings.json (a typo'd port).

    ## Fix
    Set the full URL, scheme, host and port, with no path beyond the gateway's prefix:
    `export ANTHROPIC_BASE_URL=https://<host>:<port>` (`http://` for a plain-HTTP gateway
    such as a local LiteLLM), in the place the value comes from.

    ## Fix safety
    Safe: the current value cannot work, so replacing it breaks nothing that worked;
    check the scheme and port the gateway really serves.
    """
    reason = facts["gateway.url_error"]
    url = str(facts.get("gateway.base_url") or "")
    if not reason:
        return None
    src = facts["gateway.base_url_source"]
    parts = facts.get("gateway.url_suggestion") or {}
    fixed = (f"{parts.get('scheme') or 'https'}://{parts.get('host') or '<host>'}:"
             f"{parts.get('port') or '<port>'}")
    return Finding(
        message=(f"ANTHROPIC_BASE_URL {url!r} from {where(src)} is not a usable URL ({reason}): "
                 f"no request can reach a gateway"),
        evidence={"base_url": url, "url_error": reason, "source": src},
        fixes=(env_fix("ANTHROPIC_BASE_URL", fixed, src, safety="safe",
                       title=f"Set ANTHROPIC_BASE_URL to a full URL ({fixed}; http:// for a "
                             "plain-HTTP gateway)"),),
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [settings_file_invalid, settings_env_overrides_shell, empty_value_does_not_unset,
            extra_ca_in_settings_not_applied, provider_mode_overrides_base_url, base_url_unusable]
