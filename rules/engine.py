"""Engine rules (ENG): what went wrong inside gwdoctor itself. Pure functions of engine.* facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule


@rule(id="ENG001", name="probe-raised", cause="engine.probe_error",
      severity=Severity.WARNING, needs=("engine.probe_errors",), confidence=1.0)
def probe_raised(facts: Facts) -> list[Finding]:
    """## What it checks
    A probe raised an exception instead of returning facts.

    ## Why it matters
    The facts that probe would have gathered are missing, so the rules that need
    them are listed as not evaluated: the report may be missing a root cause.

    ## Example
    A third-party probe plugin divides by zero; every other probe still runs.

    ## Fix
    Re-run with `GWDOCTOR_DISABLE_PLUGINS=<plugin>` to confirm, and report the
    error to the plugin's authors with the redacted facts bundle (`gwdoctor facts`).

    ## Fix safety
    Manual: disabling a plugin removes its checks.
    """
    return [
        Finding(
            message=f"Probe {e['probe']} (plugin {e['plugin']}) failed: {e['error']}",
            evidence=dict(e),
            fixes=(Fix(title="Run the scan without this plugin",
                       snippet=f"GWDOCTOR_DISABLE_PLUGINS={e['plugin']} gwdoctor scan",
                       safety="manual"),),
        )
        for e in facts["engine.probe_errors"] or []
    ]


@rule(id="ENG002", name="probe-timed-out", cause="engine.probe_timeout",
      severity=Severity.WARNING, needs=("engine.probe_timeouts",), confidence=1.0)
def probe_timed_out(facts: Facts) -> list[Finding]:
    """## What it checks
    A probe did not finish within its time limit (`--timeout`), or the scan's
    budget ran out before it could start.

    ## Why it matters
    Its facts are missing, so some rules could not be evaluated. A network probe
    that overruns usually means something on the route holds connections open.

    ## Example
    A gateway that accepts TCP connections and never answers.

    ## Fix
    Look at the network findings first; re-run with a larger `--timeout` if the
    route is merely slow.

    ## Fix safety
    Safe: a longer timeout changes nothing but the wait.
    """
    return [
        Finding(
            message=(f"Probe {e['probe']} hit its {e['timeout_s']:g} s limit; its checks are "
                     "incomplete"),
            evidence=dict(e),
            fixes=(Fix(title="Give slow probes more time",
                       snippet=f"gwdoctor scan --timeout {max(10, int(e['timeout_s'] * 3))}",
                       safety="safe"),),
        )
        for e in facts["engine.probe_timeouts"] or []
    ]


@rule(id="ENG003", name="plugin-failed-to-load", cause="engine.plugin_error",
      severity=Severity.WARNING, needs=("engine.plugin_errors",), confidence=1.0)
def plugin_failed_to_load(facts: Facts) -> list[Finding]:
    """## What it checks
    A plugin registered under the `gwdoctor` entry-point group could not be
    imported or registered.

    ## Why it matters
    Its probes and rules are missing from this scan; everything else still runs.

    ## Example
    `gwdoctor-corp` was installed for an older gwdoctor and imports a name that
    no longer exists.

    ## Fix
    Upgrade or uninstall the plugin, or disable it for this run.

    ## Fix safety
    Manual: removing a plugin removes its checks.
    """
    return [
        Finding(
            message=f"Plugin {e['plugin']} failed to load: {e['error']}",
            evidence=dict(e),
            fixes=(Fix(title="Skip the broken plugin",
                       snippet=f"GWDOCTOR_DISABLE_PLUGINS={e['plugin']} gwdoctor scan",
                       safety="manual"),),
        )
        for e in facts["engine.plugin_errors"] or []
    ]


@rule(id="ENG004", name="rule-raised", cause="engine.rule_error",
      severity=Severity.WARNING, needs=("engine.rule_errors",), confidence=1.0)
def rule_raised(facts: Facts) -> list[Finding]:
    """## What it checks
    A rule raised an exception while reading the facts.

    ## Why it matters
    The condition it checks was not decided; it is listed under
    `not_evaluated` and may hide a root cause.

    ## Example
    A plugin rule indexes a fact that is `None` on this machine.

    ## Fix
    Report it to the rule's authors with the redacted facts bundle
    (`gwdoctor facts`), which reproduces it offline with `gwdoctor scan --facts`.

    ## Fix safety
    Manual: nothing changes on this machine.
    """
    return [
        Finding(
            message=f"Rule {e['rule_id']} raised {e['error']}; it was not evaluated",
            evidence=dict(e),
            fixes=(Fix(title="Capture a bundle that reproduces it",
                       snippet="gwdoctor facts -o gwdoctor-facts.json", safety="safe"),),
        )
        for e in facts["engine.rule_errors"] or []
    ]


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [probe_raised, probe_timed_out, plugin_failed_to_load, rule_raised]
