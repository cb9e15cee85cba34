"""knowledge/faults.yaml, the catalogue `gwdoctor explain` and the fallback rules share: every entry
matches the real text it was taken from, and no real error line we hold gets an empty answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from gwdoctor.engine.explain import (
    describe_parts,
    explain_text,
    load_faults,
    load_signatures,
    scan_hint,
)
from gwdoctor.engine.registry import builtin_rules

ROOT = Path(__file__).resolve().parents[1]
FAULTS = load_faults()
SIGNATURES = load_signatures()
RULES = {r.id: r for r in builtin_rules()}


@pytest.mark.parametrize("entry", FAULTS["parts"], ids=lambda e: e["name"])
def test_each_part_matches_the_real_text_it_was_taken_from(entry: dict) -> None:
    for sample in entry["seen"]:
        parts = [p for p in describe_parts(sample, {**FAULTS, "parts": [entry]})
                 if p.name == entry["name"]]
        assert parts, f"{entry['name']} finds nothing in {sample!r}"
        assert all(p.value for p in parts)


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


@pytest.mark.parametrize("label, text", _real_lines(),
                         ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "")
def test_explain_never_answers_a_real_line_with_nothing(label: str, text: str) -> None:
    assert explain_text(text, SIGNATURES, RULES) or describe_parts(text, FAULTS), label


@pytest.mark.parametrize("text, name, value, meaning", [
    ('API Error: 418 {"error":"I\'m a teapot"}', "status", "418", "never sends"),
    ("API Error: 405 status code (no body)", "status", "405", "does not take POST"),
    ('{"error":{"type":"client_validation_error","message":"x"}}', "error_type",
     "client_validation_error", "relay"),
    ("API Error: 500 litellm.InternalServerError: AnthropicException - boom", "writer",
     "AnthropicException", "upstream"),
    ("If it persists, check your inference gateway (127.0.0.1:4000).", "client_hint",
     "check your inference gateway", "gateway"),
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


# ---- the probe-side classifier (probes/faults.py): rules match these ids, never the text ----

def _recorded(seen: dict) -> dict:
    """An answer as the HTTP probes record it: status, the envelope's type and message
    (probes/_envelope.parse_error, the probes' own parser) and the body excerpt."""
    from gwdoctor.probes._envelope import parse_error

    error_type, message = parse_error(seen["body"])
    return {"status": seen["status"], "error_type": error_type, "error_message": message,
            "body_excerpt": seen["body"]}


@pytest.mark.parametrize("fault", FAULTS["faults"], ids=lambda f: f["id"])
def test_each_fault_is_classified_from_the_real_body_it_was_taken_from(fault: dict) -> None:
    from gwdoctor.probes.faults import classify

    for seen in fault["seen"]:
        recorded = _recorded(seen)
        if "error_type" in seen:
            assert recorded["error_type"] == seen["error_type"], seen["source"]
        assert fault["id"] in classify(recorded), f"{fault['id']} not found in {seen['source']}"


def test_faults_of_other_answers_stay_apart() -> None:
    from gwdoctor.probes.faults import classify

    wrong_key = {"status": 401, "error_type": "auth_error", "body_excerpt": "",
                 "error_message": "Authentication Error, Invalid proxy server token passed. "
                                  "Received API Key = sk-...."}
    assert classify(wrong_key) == []  # a plain rejected key: AUT002's, no fault rules it out
    assert classify({"status": 200, "error_type": None, "error_message": None,
                     "body_excerpt": None}) == []


def test_the_probe_names_answers_as_rules_read_them() -> None:
    from gwdoctor.engine import ProbeContext
    from gwdoctor.probes.faults import http_faults

    facts = {"gateway.models": {"status": 400, "error_type": "no_db_connection",
                                "error_message": "No connected db."},
             "model.checks": [{"model": "claude-opus-5-5", "status": 403, "error_type": "forbidden",
                               "error_message": "Request not allowed"}]}
    out = http_faults.run(ProbeContext(env={}, facts=facts))["http.faults"]
    assert out == {"gateway.models": ["http.no_db"],
                   "model.checks[claude-opus-5-5]": ["http.policy_refusal"]}


def test_rules_hold_no_regular_expressions_where_faults_replaced_them() -> None:
    text = (ROOT / "rules/auth.py").read_text()
    assert "import re" not in text and "re.compile" not in text


@pytest.mark.parametrize("fault", FAULTS["faults"], ids=lambda f: f["id"])
def test_explain_names_the_fault_the_scan_assigns_to_the_same_body(fault: dict) -> None:
    for seen in fault["seen"]:
        named = {p.value for p in describe_parts(seen["body"], FAULTS) if p.name == "fault"}
        assert fault["id"] in named, seen["source"]


_CAPTURE_SOURCE = re.compile(r"captured from .+ by (?P<file>tests/\S+\.py)::(?P<test>\w+)")


def test_every_seen_body_is_captured_or_cited() -> None:
    """A `seen` body is either written by a real part in a named live test ("captured from <part>
    by tests/<file>::<test>") or quoted from a public report whose address its source gives; a
    body written from documentation is neither."""
    for fault in FAULTS["faults"]:
        for seen in fault["seen"]:
            source = seen["source"]
            captured = _CAPTURE_SOURCE.fullmatch(source)
            if captured:
                test_file = ROOT / captured["file"]
                assert test_file.is_file(), source
                assert f"def {captured['test']}(" in test_file.read_text(), source
            else:
                assert "https://" in source, (
                    f"{fault['id']}: {source!r} is neither captured nor cited")
