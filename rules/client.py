"""Client rules (CFG015): how far gwdoctor's picture of the installed client can be trusted.
Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Severity, hookimpl, rule


@rule(id="CFG015", name="client-version-not-captured", cause="config.client_not_captured",
      severity=Severity.INFO, needs=("client.behaviour_source",), confidence=0.9,
      reads=("client.version",))
def client_version_not_captured(facts: Facts) -> Finding | None:
    """## What it checks
    The installed Claude Code version is not one whose requests the capture tier recorded
    (knowledge/client.yaml `captured_versions`), and `--observe-client` did not record it
    either.

    ## Why it matters
    What the client sends for each alias, which beta flags and user agent it uses, and how it
    routes through proxies change between versions (2.1.197 sends `claude-sonnet-5` for the
    sonnet alias, 2.1.332 `claude-sonnet-5-5`). For an uncaptured version every prediction is an
    assumption: the report says so instead of presenting it as measured.

    ## Example
    Claude Code 2.1.250 is installed; gwdoctor has captures of 2.1.197 and 2.1.332 and assumes
    2.1.250 behaves like 2.1.197.

    ## Fix
    Run `gwdoctor scan --observe-client`: it runs the installed binary against a local recorder
    (no network, no paid request, none of your settings) and uses what it sent.

    ## Fix safety
    Safe: the observation runs the client in a temporary home against 127.0.0.1 only.
    """
    basis = facts.get("client.behaviour_source")
    if not isinstance(basis, dict) or basis.get("kind") not in ("nearest-captured", "docs"):
        return None
    observation = basis.get("observation") or {}
    failed = f"; --observe-client could not run: {observation['error']}" \
        if isinstance(observation, dict) and observation.get("error") else ""
    version = facts.get("client.version")
    return Finding(
        message=f"Claude Code {version}: {basis.get('detail')}{failed}",
        evidence={"version": version, "basis": basis.get("kind"), "assumed_like": basis.get("version"),
                  "captured": basis.get("captured")},
        fixes=(Fix(title="Record what the installed client sends", safety="safe",
                   snippet="gwdoctor scan --observe-client"),))


@hookimpl
def gwdoctor_register_rules() -> list:
    return [client_version_not_captured]
