"""What the engine applies but does not know: areas, the report's client, the verdict's essential
facts and the secret names come from the knowledge; the rules that run last say so themselves
(docs/engine.md, "The engine knows no domain")."""

from __future__ import annotations

import yaml
from gwdoctor.engine import Finding, Severity, rule
from gwdoctor.engine.evaluate import evaluate
from gwdoctor.engine.graph import GraphIndex, build_graph
from gwdoctor.engine.knowledge import areas, builtin_dirs, diagnosis
from gwdoctor.engine.model import Options
from gwdoctor.engine.redact import SecretNames, secret_values
from gwdoctor.engine.report import client_dict, verdict
from gwdoctor.engine.scan import ScanRequest, run_scan

INDEX = GraphIndex(build_graph([]))


def test_knowledge_directories_come_from_the_knowledge_hook() -> None:
    from gwdoctor.engine.plugins import get_plugin_manager
    from gwdoctor.engine.registry import knowledge_dirs

    dirs = builtin_dirs()
    assert dirs and list(dirs) == knowledge_dirs(get_plugin_manager(load_entrypoints=False, env={}))


def test_a_rules_area_is_its_id_prefix_in_the_area_table() -> None:
    table = yaml.safe_load((builtin_dirs()[0] / "areas.yaml").read_text())["areas"]
    assert areas() == {a["prefix"]: a["name"] for a in table}

    @rule(id="DNS999", name="x-y", cause="dns.x", severity="info")
    def dns_rule(facts):  # noqa: ANN001, ANN202
        return None

    @rule(id="ZZZ999", name="x-z", cause="zzz.x", severity="info")
    def unknown(facts):  # noqa: ANN001, ANN202
        return None

    assert dns_rule.area == areas()["DNS"] and unknown.area == "other"


def test_the_reports_client_and_the_verdicts_essential_facts_are_knowledge() -> None:
    client = diagnosis()["client"]
    facts = {client["version_fact"]: "9.9.9", client["version_source_fact"]: "test"}
    assert client_dict(facts) == {"name": client["name"], "version": "9.9.9",
                                  "version_source": "test"}
    essential = diagnosis()["essential_facts"]
    assert verdict([], {}, offline=False) == (
        "unknown", "checks that decide health did not run: " + ", ".join(essential))
    assert verdict([], dict.fromkeys(essential), offline=False)[0] == "healthy"


def test_a_scan_reports_the_client_of_the_knowledge(tmp_path) -> None:
    report = run_scan(ScanRequest(env={"PATH": ""}, home=tmp_path, cwd=tmp_path, root=tmp_path,
                                  load_plugins=False, options=Options(offline=True))).report
    assert report["client"]["name"] == diagnosis()["client"]["name"]


def test_the_redactor_applies_the_catalogue_it_is_given() -> None:
    catalogue = {"header_lines": [], "whole_value": ["^MY_VAULT_ITEM$"], "proxy_url": [],
                 "url": [], "auth_scheme": [], "key_prefix": []}
    names = SecretNames.from_catalogue(catalogue)
    env = {"MY_VAULT_ITEM": "s3cret-value", "ANTHROPIC_AUTH_TOKEN": "another-secret"}
    assert "s3cret-value" in secret_values(env, names=names)
    assert "another-secret" not in secret_values(env, names=names)
    assert "another-secret" in secret_values(env)  # the built-in catalogue names it


def test_a_rule_that_declares_the_rule_errors_runs_after_the_others() -> None:
    @rule(id="AAA001", name="a-raises", cause="a.b", severity="error")
    def a_raises(facts):  # noqa: ANN001, ANN202
        raise RuntimeError("boom")

    @rule(id="AAA000", name="a-reports", cause="a.c", severity=Severity.WARNING,
          needs=("engine.rule_errors",))
    def a_reports(facts):  # noqa: ANN001, ANN202
        return [Finding(message=e["rule_id"]) for e in facts["engine.rule_errors"]]

    results = evaluate([a_reports, a_raises], {}, INDEX).results
    assert [(r.rule.id, r.finding.message) for r in results] == [("AAA000", "AAA001")]
