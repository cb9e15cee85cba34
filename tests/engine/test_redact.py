"""Secrets in URLs are redacted whatever their characters, in facts and by the last-line scrubber."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gwdoctor.engine.model import Options
from gwdoctor.engine.redact import scrub, secret_values
from gwdoctor.engine.scan import ScanRequest, run_scan


@pytest.mark.parametrize("password", ["2024#Spring", "a/b/c-pw", "q?uery-pw", "p@ss:w0rd", "plain-pw"])
def test_proxy_and_base_url_passwords_never_reach_the_report(password: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": f"http://jdoe:{password}@proxy.corp:8080",
           "ANTHROPIC_BASE_URL": f"http://gwuser:{password}x@gw.example:4000"}
    out = run_scan(ScanRequest(env=env, home=tmp_path, cwd=tmp_path, root=tmp_path,
                               options=Options(offline=True), load_plugins=False))
    text = json.dumps(out.report) + json.dumps(out.bundle)
    assert password not in text
    shown = json.dumps(out.report["facts"]["config.env"]["HTTPS_PROXY"])
    assert "***@proxy.corp:8080" in shown
    if not set(password) & set("#/?"):
        assert "jdoe:***@" in shown  # user names stay: they help diagnose


def test_scrubber_finds_a_password_urlsplit_cannot_see() -> None:
    secrets = secret_values({"HTTPS_PROXY": "http://u:2024#Spring@proxy:8080"})
    assert "2024#Spring" in secrets
    assert scrub({"k": ["see http://u:2024#Spring@proxy:8080"]}, secrets) == {
        "k": ["see http://u:[redacted]@proxy:8080"]}
