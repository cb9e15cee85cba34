"""Client-install rules (CFG015, CFG016): how far gwdoctor's picture of the installed client can be
trusted, and files it reads at start-up that could not be read. Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule


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
        evidence={"version": version, "basis": basis.get("kind"),
                  "assumed_like": basis.get("version"), "captured": basis.get("captured")},
        fixes=(Fix(title="Record what the installed client sends", safety="safe",
                   snippet="gwdoctor scan --observe-client"),))


@rule(id="CFG016", name="client-file-unreadable", cause="config.settings_invalid",
      severity=Severity.WARNING, needs=("config.claude_json_problem",), confidence=0.8,
      reads=("provider.bedrock",))
def client_file_unreadable(facts: Facts) -> list[Finding]:
    """## What it checks
    A file the client reads at start-up exists but could not be read safely: `~/.claude.json`
    (workspace trust, onboarding state), or in Bedrock mode the AWS config and credentials
    files. A FIFO, a device such as `/dev/zero`, a socket, a file over the size cap or JSON
    nested past 64 levels.

    ## Why it matters
    gwdoctor does not read such a file (a FIFO blocks, `/dev/zero` never ends), so what it
    holds (whether this workspace is trusted, which AWS profile and keys apply) is missing from
    the diagnosis; the client itself may hang or fail on it at start-up. Which, this check
    cannot tell, so it is a warning that says what was not checked.

    ## Example
    `~/.claude.json` is a named pipe left by a sync tool; `AWS_CONFIG_FILE=/dev/zero`.

    ## Fix
    Replace it with the regular file it should be (or unset the variable that points at it).

    ## Fix safety
    Review: the file holds the client's state; move the odd one aside rather than deleting it.
    """
    out = []
    problems = []
    claude_json = facts.get("config.claude_json_problem")
    if isinstance(claude_json, dict):
        problems.append((claude_json, "workspace trust and the client's own state were not read"))
    bedrock = facts.get("provider.bedrock")
    if isinstance(bedrock, dict):
        for problem in bedrock.get("file_problems") or []:
            problems.append((problem, "the AWS profile, region and keys in it were not read"))
    for problem, lost in problems:
        path = problem.get("path")
        out.append(Finding(
            message=f"{path} could not be read safely ({problem.get('problem')}): {lost}",
            evidence=dict(problem),
            fixes=(Fix(title="Look at what the path really is", safety="safe",
                       snippet=f"ls -l '{path}'; file '{path}'"),)))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [client_version_not_captured, client_file_unreadable]
