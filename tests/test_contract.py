"""Contract tests: the extension surface (hooks, rule metadata and docs, public names, packaging)
is product."""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import subprocess
import sys
from pathlib import Path

import gwdoctor.engine
import pytest
import yaml
from gwdoctor.engine import hookspecs
from gwdoctor.engine.docs import write_docs
from gwdoctor.engine.model import Rule, Severity
from gwdoctor.engine.plugins import get_plugin_manager
from gwdoctor.engine.registry import builtin_rules

ROOT = Path(__file__).resolve().parents[1]
PM = get_plugin_manager(load_entrypoints=False, env={})
HOOKS = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
               if name.startswith("gwdoctor_"))
RULES = sorted(builtin_rules(), key=lambda r: r.id)
SECTIONS = ("## What it checks", "## Why it matters", "## Example", "## Fix", "## Fix safety")
GRAPH_NODES = set(yaml.safe_load((ROOT / "knowledge/graph.yaml").read_text())["nodes"])
RETIRED = {r["id"] for r in yaml.safe_load((ROOT / "knowledge/retired.yaml").read_text()) or []
           if "id" in r}
PUBLIC_NAMES = [
    "Facts", "Finding", "Fix", "Options", "Probe", "ProbeContext", "ProbeSkipped", "Rule",
    "ScanOption", "Severity", "Vault", "__version__", "describe_secret", "hookimpl", "probe",
    "rule",
]


def test_there_are_hooks_to_document() -> None:
    assert {"gwdoctor_register_probes", "gwdoctor_register_rules",
            "gwdoctor_register_knowledge"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_signature(hook: str) -> None:
    args = ", ".join(getattr(PM.hook, hook).spec.argnames)
    assert f"## {hook}({args})" in (ROOT / "docs/plugins.md").read_text(encoding="utf-8")


def test_every_documented_hook_exists() -> None:
    documented = re.findall(r"^## (gwdoctor_\w+)\(", (ROOT / "docs/plugins.md").read_text(), re.M)
    assert sorted(set(documented)) == HOOKS


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_metadata(rule: Rule) -> None:
    assert re.fullmatch(r"(CFG|DNS|PRX|TLS|GWY|AUT|MDL|PRV|ENG)\d{3}", rule.id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), "name must be kebab-case"
    assert rule.check.__name__ == rule.name.replace("-", "_")
    assert isinstance(rule.severity, Severity)
    assert 0 < rule.confidence <= 1
    assert re.fullmatch(r"[a-z]+\.[a-z][a-z0-9_]*", rule.cause)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_doc_sections_in_order(rule: Rule) -> None:
    headings = re.findall(r"^## .+$", rule.doc, re.M)
    assert headings[: len(SECTIONS)] == list(SECTIONS), headings
    optional = headings[len(SECTIONS):]
    assert optional in ([], ["## Known problems"], ["## References"],
                        ["## Known problems", "## References"]), optional
    for section in SECTIONS:
        body = rule.doc.split(section + "\n", 1)[1].split("\n## ", 1)[0]
        assert body.strip(), f"{section} is empty"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_a_case_file(rule: Rule) -> None:
    assert (ROOT / "tests/rules/cases" / f"{rule.id}.yaml").is_file()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_a_graph_node(rule: Rule) -> None:
    assert rule.id in GRAPH_NODES or rule.id in RETIRED, "add it to knowledge/graph.yaml"


def test_rule_ids_and_names_are_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_public_names_are_pinned() -> None:
    assert sorted(gwdoctor.engine.__all__) == sorted(PUBLIC_NAMES)
    for name in PUBLIC_NAMES:
        assert getattr(gwdoctor.engine, name) is not None


def test_docs_rules_are_generated_from_the_code() -> None:
    stale = write_docs(RULES, ROOT / "docs/rules", check=True)
    assert stale == [], (f"docs/rules is out of date: {stale}; "
                         "run `python -m gwdoctor.engine.docs docs/rules`")


def test_no_top_level_engine_rules_or_probes_package_is_installed(tmp_path: Path) -> None:
    # NOTE: `python -m pytest` puts the checkout on sys.path, where an editable install's
    # gwdoctor.egg-info (SOURCES.txt lists engine/...) would shadow the installed metadata;
    # look only in site-packages. tests/test_install.py checks a real wheel too.
    site_dirs = [p for p in sys.path if p.endswith("site-packages")]
    dist = next(iter(importlib.metadata.distributions(name="gwdoctor", path=site_dirs)))
    top = {line.strip() for line in (dist.read_text("top_level.txt") or "").splitlines()}
    assert top <= {"gwdoctor", ""}, top
    for f in dist.files or []:
        assert f.parts[0] not in ("engine", "rules", "probes"), f
    # From a directory outside the checkout, so the repo root is not on sys.path.
    code = ("import importlib.util as u; "
            "print([n for n in ('engine', 'rules', 'probes') if u.find_spec(n)])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
