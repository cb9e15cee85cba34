"""`gwdoctor explain "<error text>"`: every recorded real-world error names its cause in the top
three."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gwdoctor.engine.explain import Explanation, explain_text, load_signatures, parse_signatures
from gwdoctor.engine.knowledge import KnowledgeError
from gwdoctor.engine.registry import builtin_rules

DATA = yaml.safe_load((Path(__file__).parent / "data" / "failure_symptoms.yaml").read_text())
SIGNATURES = load_signatures()
RULES = {r.id: r for r in builtin_rules()}


def _top3(text: str) -> list[Explanation]:
    return explain_text(text, SIGNATURES, RULES)[:3]


def _show(found: list[Explanation]) -> str:
    return ", ".join(f"{e.rule_id}[{e.cause}]={e.score:.2f}" for e in found)


@pytest.mark.parametrize("case", DATA["failure_cases"], ids=lambda c: c["case"])
def test_failure_case_symptom_names_its_cause(case: dict) -> None:
    top = _top3(case["text"])
    assert case["cause"] in {e.cause for e in top}, _show(top)
    if "rule" in case:
        assert case["rule"] in {e.rule_id for e in top}, _show(top)


LINES = DATA["live_lab"] + DATA["older_client"] + DATA["other_lines"]


@pytest.mark.parametrize("line", LINES, ids=lambda c: c["variant"])
def test_client_error_line_names_the_rule(line: dict) -> None:
    top = _top3(line["text"])
    assert line["rule"] in {e.rule_id for e in top}, _show(top)


def test_failure_cases_copy_matches_the_reference_when_present() -> None:
    ref = Path(__file__).resolve().parents[2] / "shared" / "reference" / "failure-cases.md"
    if not ref.is_file():
        pytest.skip("../shared/reference is not beside this checkout")
    text = ref.read_text()
    names = {c["case"] for c in DATA["failure_cases"]}
    recorded = {line[3:].split(" ")[0] for line in text.splitlines() if line.startswith("## ")}
    assert recorded == names, f"update tests/data/failure_symptoms.yaml: {sorted(recorded ^ names)}"
    for case in DATA["failure_cases"]:
        assert case["text"] in text, case["case"]


def test_unknown_text_explains_nothing() -> None:
    assert explain_text("everything is fine, thank you", SIGNATURES, RULES) == []


def test_ranking_is_deterministic_and_scores_bounded() -> None:
    text = "API Error: Connection refused (ECONNREFUSED) through HTTPS_PROXY, fetch failed"
    first = explain_text(text, SIGNATURES, RULES)
    assert first == explain_text(text, list(reversed(SIGNATURES))[::-1], RULES)
    assert all(0 < e.score < 1 for e in first)
    assert [e.score for e in first] == sorted((e.score for e in first), reverse=True)


def test_two_clues_beat_one() -> None:
    one = explain_text("fetch failed", SIGNATURES, RULES)[0]
    two = explain_text("fetch failed; proxy wants NTLM", SIGNATURES, RULES)[0]
    assert one.rule_id == two.rule_id == "PRX009"
    assert two.score > one.score


def test_unregistered_rule_ids_still_explain_with_the_signature_cause() -> None:
    sigs = parse_signatures(
        [{"match": "corp vpn down", "rules": ["XYZ001"], "cause": "corp.vpn_down",
          "confirm": "ping the VPN concentrator", "source": "corp wiki"}], "corp/signatures.yaml")
    [only] = explain_text("ERROR: Corp VPN down", sigs, {})
    assert (only.rule_id, only.rule_name, only.cause) == ("XYZ001", "", "corp.vpn_down")
    assert only.confirm == "ping the VPN concentrator" and only.matched == ("Corp VPN down",)


@pytest.mark.parametrize(("text", "message"), [
    ("- match: '(unclosed'\n  rules: [TLS001]\n  cause: tls.untrusted_ca\n  confirm: x x x\n"
     "  source: lab\n",
     "bad/signatures.yaml:1: match is not a valid regex"),
    ("- match: 'okay'\n  rules: [TLS001]\n  cause: tls.untrusted_ca\n  confirm: x x x\n"
     "  source: lab\n"
     "- match: '(ab)?'\n  rules: [TLS001]\n  cause: tls.untrusted_ca\n  confirm: x x x\n"
     "  source: lab\n",
     "bad/signatures.yaml:6: match '(ab)?' matches empty text"),
    ("- match: 'okay'\n  rules: [tls001]\n  cause: tls.untrusted_ca\n  confirm: x x x\n"
     "  source: lab\n",
     "bad/signatures.yaml:2: 0/rules/0"),
    ("- match: 'okay'\n  rules: [TLS001]\n  cause: tls.untrusted_ca\n  confirm: x x x\n"
     "  source: lab\n  typo: 1\n",
     "bad/signatures.yaml:1: 0: Additional properties are not allowed"),
])
def test_bad_signature_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "signatures.yaml").write_text(text)
    bad = tmp_path
    try:
        load_signatures([_Named(bad, "bad")])
    except KnowledgeError as exc:
        assert message in str(exc)
    else:
        pytest.fail("expected a KnowledgeError")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "signatures.yaml").write_text("- match: 'a'\n  rules: [TLS001\n")
    with pytest.raises(KnowledgeError, match=r"bad/signatures.yaml:\d+:\d+: invalid YAML"):
        load_signatures([_Named(tmp_path, "bad")])


class _Named:
    """A Traversable-like directory with a chosen display name."""

    def __init__(self, path: Path, name: str) -> None:
        self._path, self.name = path, name

    def __truediv__(self, child: str) -> Path:
        return self._path / child
