"""The engine knows nothing of the domain (docs/engine.md, "The engine knows no domain").

Read from the code with `ast`: no string literal of engine/*.py (docstrings aside) names a fact
the probes provide, a variable the client reads, a built-in plugin module, the client, or a
pattern of the secret catalogue. The vocabulary comes from the knowledge files and the installed
entry points, so a new fact or plugin is covered without editing this test.

The breaches another change removes are listed below with their reason; a listed breach that is
gone fails the test, so the list only shrinks.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import yaml
from gwdoctor.engine.plugins import SUBPLUGINS, builtin_entry_points

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"


def _yaml(name: str) -> dict:
    return yaml.safe_load((KNOWLEDGE / name).read_text(encoding="utf-8"))


def _plugin_modules() -> set[str]:
    names: set[str] = set()
    for ep in builtin_entry_points():
        names.add(ep.value.split(":")[0])
        names.update(getattr(importlib.import_module(ep.value.split(":")[0]), SUBPLUGINS, ()))
    return names


FACTS = _yaml("facts.yaml")["facts"]
DOMAIN_FACTS = sorted(k for k, v in FACTS.items() if v["provider"] != "engine")
# "dns.gateway", "auth.token", ...: any dotted name under a prefix of the probes' facts.
FACT_NAME = re.compile(r"\b(?:%s)\.[a-z_]" % "|".join(
    sorted({re.escape(k.split(".")[0]) for k in DOMAIN_FACTS})))
VARIABLES = sorted(v["name"] for v in _yaml("variables.yaml")["variables"])
CLIENT = _yaml("diagnosis.yaml")["client"]
CLIENT_WORDS = re.compile("|".join(re.escape(w) for w in (CLIENT["name"], CLIENT["title"],
                                                          CLIENT["name"].split("-")[0])), re.I)
SECRET_PATTERNS = sorted({p for patterns in _yaml("secrets.yaml")["redact"].values()
                          for p in patterns})
PLUGIN_MODULES = sorted(_plugin_modules())
# "config,provider,dns": a list of the knowledge's areas (two or more, comma-separated).
_AREA = "(?:%s)" % "|".join(re.escape(a["name"]) for a in _yaml("areas.yaml")["areas"])
AREA_LIST = re.compile(rf"\b{_AREA}(?:, ?{_AREA})+\b")


def _literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant of the module except docstrings (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def _domain_words(text: str) -> list[str]:
    found = [m.group(0) for m in FACT_NAME.finditer(text)]
    found += [v for v in VARIABLES if v in text]
    found += [m for m in PLUGIN_MODULES if m in text]
    found += [m.group(0) for m in CLIENT_WORDS.finditer(text)]
    found += [p for p in SECRET_PATTERNS if p in text]
    found += [m.group(0) for m in AREA_LIST.finditer(text)]
    return found


def _breaches() -> dict[tuple[str, str], str]:
    out = {}
    for path in sorted((ROOT / "engine").glob("*.py")):
        for line, text in _literals(path):
            words = _domain_words(text)
            if words:
                out[(path.name, text)] = f"engine/{path.name}:{line}: {words} in {text[:80]!r}"
    return out


BREACHES = _breaches()


def test_the_vocabulary_is_read_from_the_knowledge() -> None:
    assert "dns.gateway" in DOMAIN_FACTS and "engine.rule_errors" not in DOMAIN_FACTS
    assert "ANTHROPIC_BASE_URL" in VARIABLES
    assert {"gwdoctor.probes.dns", "gwdoctor.rules.dns",
            "gwdoctor.knowledge"} <= set(PLUGIN_MODULES)
    assert _domain_words("see dns.gateway") and _domain_words("Claude Code")
    assert _domain_words("areas (dns,proxy)")
    assert not _domain_words("engine.rule_errors") and not _domain_words("a gwdoctor report")


def test_no_engine_literal_names_a_fact_variable_plugin_client_or_secret_pattern() -> None:
    assert not BREACHES, "\n".join(sorted(BREACHES.values()))


# The knowledge files the engine reads itself, and why: what it applies without knowing.
ENGINE_READS = {
    "graph.yaml": "the decision graph it ranks with",
    "signatures.yaml": "gwdoctor explain's error signatures",
    "faults.yaml": "gwdoctor explain's parts of an error text",
    "facts.yaml": "the fact index of docs/facts.md",
    "areas.yaml": "the area of a rule id",
    "diagnosis.yaml": "the report's client and the verdict's essential facts",
    "secrets.yaml": "the names the redactor scrubs",
    "hosts.yaml": "the named host lists of engine/hosts.py",
}


def test_the_engine_reads_only_the_knowledge_files_it_applies() -> None:
    """client.yaml, variables.yaml, providers.yaml...: their readers are the probes and rules."""
    files = {p.name for p in KNOWLEDGE.glob("*.yaml")}
    named = {(path.name, name) for path in sorted((ROOT / "engine").glob("*.py"))
             for _line, text in _literals(path)
             for name in re.findall(r"[\w-]+\.yaml", text) if name in files}
    assert {name for _module, name in named} <= set(ENGINE_READS), sorted(named)


def test_the_engine_imports_no_plugin_module() -> None:
    """No import statement of the engine names a built-in plugin's package (tests/test_layers.py
    checks every layer; this is the engine's half, from the entry points)."""
    packages = {m.rsplit(".", 1)[0] if m.count(".") > 1 else m for m in PLUGIN_MODULES}
    for path in sorted((ROOT / "engine").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names
                        if any(n == p or n.startswith(p + ".") for p in packages)], \
                f"engine/{path.name}:{getattr(node, 'lineno', 0)} imports {names}"
