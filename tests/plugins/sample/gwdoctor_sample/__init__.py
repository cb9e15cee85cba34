"""Sample third-party gwdoctor plugin (tests only)."""

from __future__ import annotations

import os
import time
from importlib import resources

from gwdoctor.engine import Facts, Finding, Fix, Severity, hookimpl, probe, rule


@probe(name="sample.marker", provides=("sample.marker",))
def read_marker(ctx):
    """Read GWDOCTOR_SAMPLE_MARKER from the client's environment."""
    return {"sample.marker": ctx.env.get("GWDOCTOR_SAMPLE_MARKER")}


@probe(name="sample.raises", provides=("sample.never",))
def raises(ctx):
    """Always raises, to show a broken probe does not end the scan."""
    if os.environ.get("GWDOCTOR_SAMPLE_RAISE", "1") == "1":
        raise ZeroDivisionError("sample probe divided by zero")
    return {"sample.never": None}


@probe(name="sample.hangs", provides=("sample.slow",), timeout=0.5)
def hangs(ctx):
    """Sleeps past its 0.5 s limit when GWDOCTOR_SAMPLE_HANG=1."""
    if os.environ.get("GWDOCTOR_SAMPLE_HANG") == "1":
        time.sleep(30)
    return {"sample.slow": False}


@rule(id="SMP001", name="sample-marker-set", cause="config.ignored_setting",
      severity=Severity.WARNING, needs=("sample.marker",), confidence=0.5)
def sample_marker_set(facts: Facts):
    """## What it checks
    The sample marker variable is set.

    ## Why it matters
    It proves third-party rules load through the entry point.

    ## Example
    `GWDOCTOR_SAMPLE_MARKER=1`

    ## Fix
    Unset it.

    ## Fix safety
    Safe.
    """
    if facts["sample.marker"]:
        return Finding(message=f"sample marker is {facts['sample.marker']}",
                       fixes=(Fix(title="Unset the marker", snippet="unset GWDOCTOR_SAMPLE_MARKER",
                                  safety="safe"),))
    return None


@hookimpl
def gwdoctor_register_probes():
    return [read_marker, raises, hangs]


@hookimpl
def gwdoctor_register_rules():
    return [sample_marker_set]


@hookimpl
def gwdoctor_register_knowledge():
    return [resources.files(__name__) / "knowledge"]
