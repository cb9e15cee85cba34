"""knowledge/faults.yaml, the catalogue `gwdoctor explain` and the fallback rules share: every entry
matches the real text it was taken from, and no real error line we hold gets an empty answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gwdoctor.engine.explain import describe_parts, explain_text, load_faults, load_signatures, scan_hint
from gwdoctor.engine.registry import builtin_rules

ROOT = Path(__file__).resolve().parents[1]
FAULTS = load_faults()
SIGNATURES = load_signatures()
RULES = {r.id: r for r in builtin_rules()}


@pytest.mark.parametrize("entry", FAULTS["parts"], ids=lambda e: e["name"])
def test_each_part_matches_the_real_text_it_was_taken_from(entry: dict) -> None:
    for sample in entry["seen"]:
        parts = [p for p in describe_parts(sample, {**FAULTS, "parts": [entry]})]
        assert parts, f"{entry['name']} finds nothing in {sample!r}"
        assert all(p.name == entry["name"] and p.value for p in parts)


def _real_lines() -> list[tuple[str, str]]:
    """Every error line a user or the real client printed that the repository holds: the failure
    symptoms (tests/data) and the client lines the scenarios record (`client_expect`)."""
    data = yaml.safe_load((ROOT / "tests/data/failure_symptoms.yaml").read_text())
    out = [(f"{k}:{i}", item["text"]) for k, items in data.items() for i, item in enumerate(items)
           if isinstance(item, dict) and item.get("text")]
    for path in sorted((ROOT / "tests/scenarios").glob("*.yaml")):
        line = (yaml.safe_load(path.read_text()) or {}).get("client_expect")
        if line:
            out.append((path.stem, line))
    return out


@pytest.mark.parametrize("label, text", _real_lines(), ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "")
def test_explain_never_answers_a_real_line_with_nothing(label: str, text: str) -> None:
    assert explain_text(text, SIGNATURES, RULES) or describe_parts(text, FAULTS), label


@pytest.mark.parametrize("text, name, value, meaning", [
    ('API Error: 418 {"error":"I\'m a teapot"}', "status", "418", "never sends"),
    ("API Error: 405 status code (no body)", "status", "405", "does not take POST"),
    ('{"error":{"type":"client_validation_error","message":"x"}}', "error_type", "client_validation_error", "relay"),
    ("API Error: 500 litellm.InternalServerError: AnthropicException - boom", "writer", "AnthropicException", "upstream"),
    ("If it persists, check your inference gateway (127.0.0.1:4000).", "client_hint", "check your inference gateway", "gateway"),
])
def test_parts_say_what_they_mean(text: str, name: str, value: str, meaning: str) -> None:
    parts = {p.name: p for p in describe_parts(text, FAULTS)}
    assert parts[name].value == value and meaning in parts[name].meaning


def test_an_unmatched_line_gets_its_parts_and_the_scan_that_tells_causes_apart() -> None:
    from gwdoctor.engine.cli import main

    text = "Upstream said: HTTP/1.1 451 Unavailable For Legal Reasons"
    assert explain_text(text, SIGNATURES, RULES) == []
    out = CliRunner().invoke(main, ["explain", text]).output
    assert "No known error signature matches" in out
    assert "HTTP status 451" in out and "never sends" in out
    assert "gwdoctor scan --only gateway,auth,model" in out


def test_scan_hint_without_parts_is_the_full_scan() -> None:
    assert scan_hint([]) == "gwdoctor scan"


def test_fallback_rules_read_the_same_catalogue() -> None:
    from gwdoctor.rules.unexplained import status_meaning

    assert status_meaning(405) == FAULTS["statuses"]["405"]
    assert status_meaning(418) == FAULTS["statuses"]["4xx"]
