"""Everything `gwdoctor generate` writes serves or selects model ids that the client can use:
no id the newest captured client reports as retired by today (it warns "was retired on" and the
providers stop serving it), and the LiteLLM configs serve the ids the captured client sends for
its default and alias models."""

from __future__ import annotations

import datetime
import re

import pytest
import yaml
from gwdoctor.probes._effective import retired_on
from gwdoctor.probes.client_behaviour import captured_versions, client_behaviour, parse_version
from gwdoctor.setup.generator import generate

KINDS = {"litellm-vertex": {}, "litellm-multi": {}, "bedrock": {}, "vertex": {},
         "enterprise": {"gateway": "truefoundry"}}
NEWEST = max(captured_versions(), key=lambda v: parse_version(v) or (0,))


def _ids(text: str) -> set[str]:
    """Claude model ids in any provider spelling, normalised to the Anthropic one."""
    out = set()
    for raw in re.findall(r"(?:[a-z]{2}\.)?(?:anthropic\.)?claude-[a-z0-9][a-z0-9.@-]*(?::\d+)?",
                          text):
        base = re.sub(r"^(?:[a-z]{2}\.)?anthropic\.", "", raw)
        base = re.sub(r"-v\d+(?::\d+)?$", "", base).replace("@", "-")
        base = re.sub(r"-(bedrock|vertex|anthropic)$", "", base)
        if base.startswith("claude-code"):
            continue
        out.add(base.rstrip(".:-"))
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_generated_configs_pin_no_retired_model(kind: str) -> None:
    files = generate(kind, dict(KINDS[kind]))
    behaviour = client_behaviour(NEWEST)
    today = datetime.date.today().isoformat()
    ids = _ids("\n".join(files.values()))
    retired = {m: d for m in ids if (d := retired_on(m, behaviour)) and d <= today}
    assert not retired, f"generate {kind} pins ids Claude Code {NEWEST} reports retired: {retired}"


def test_the_retired_check_sees_the_old_pin() -> None:
    """The check above can fail: the id generate used to pin is retired by now."""
    assert retired_on("claude-sonnet-4-5-20250929", client_behaviour(NEWEST)) == "2026-11-30"
    assert _ids("model: bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0") == {
        "claude-sonnet-4-5-20250929"}


@pytest.mark.parametrize("kind", ["litellm-vertex", "litellm-multi"])
def test_litellm_configs_serve_what_the_client_sends(kind: str) -> None:
    config = yaml.safe_load(generate(kind, {})["config.yaml"])
    served = {m["model_name"] for m in config["model_list"]}
    beh = client_behaviour(NEWEST)
    assert set(beh["default_models"].values()) <= served, served


def test_validate_warns_on_a_retired_upstream(tmp_path) -> None:
    import json
    import subprocess
    import sys

    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n  - model_name: claude-opus-5-5\n    litellm_params:\n"
                      "      model: bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0\n")
    done = subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", "validate",
                           "--gateway-config", str(config), "--format", "json", "--fail-on",
                           "never"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found = {f["rule_id"]: f for f in json.loads(done.stdout)["findings"]}
    assert "MDL010" in found and "2026-11-30" in found["MDL010"]["message"], sorted(found)
    assert f"{config}:" in found["MDL010"]["message"] or "line" in found["MDL010"]["evidence"]
