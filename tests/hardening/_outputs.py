"""Every output a scan can produce, rendered in process: the five report formats and the facts
bundle."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from gwdoctor.engine.formats import render_junit, render_markdown, render_sarif
from gwdoctor.engine.model import Options
from gwdoctor.engine.render_text import render_text
from gwdoctor.engine.report import dumps
from gwdoctor.engine.scan import ScanRequest, run_scan


def scan_outputs(env: dict[str, str], home: Path, **options: Any) -> dict[str, str]:
    """``{format: text}`` for text, json, markdown, sarif, junit and the facts bundle."""
    options.setdefault("probe_timeout", 2.0)
    outcome = run_scan(ScanRequest(env=env, home=home, cwd=home, root=home,
                                   options=Options(**options), load_plugins=False))
    buf = io.StringIO()
    render_text(outcome.report, buf, plain=True, verbose=True)
    rules = outcome.registry.rules
    return {"text": buf.getvalue(), "json": dumps(outcome.report),
            "markdown": render_markdown(outcome.report),
            "sarif": render_sarif(outcome.report, rules),
            "junit": render_junit(outcome.report, rules, "error"),
            "facts": json.dumps(outcome.bundle)}
