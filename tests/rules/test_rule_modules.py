"""Every rule is found by its id alone: its module, its docs page and its case file.

The convention (docs/rule-authoring.md, "Where a rule lives"): rule ``XXXnnn`` of area ``<area>``
is defined in ``rules/<area>.py`` or ``rules/<area>_<concept>.py`` (one module per fault family),
except the fallback rules (``fallback_after``), which live together in ``rules/unexplained.py``.
Its page is ``docs/rules/<ID>.md`` and its cases ``tests/rules/cases/<ID>.yaml``. The table in the
guide that maps each module to its ids is generated from the registry and checked here; rewrite
it with ``python tests/rules/test_rule_modules.py --write``.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import gwdoctor.rules
import pytest
from gwdoctor.engine.model import Rule
from gwdoctor.engine.plugins import get_plugin_manager
from gwdoctor.engine.registry import build_registry

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs/rule-authoring.md"
INDEX_BEGIN = ("<!-- Rule index: generated from the registry by "
               "`python tests/rules/test_rule_modules.py --write`. Do not edit. -->")
INDEX_END = "<!-- End of the rule index. -->"
FALLBACK_MODULE = "gwdoctor.rules.unexplained"
MAX_LINES = 400

REGISTRY = build_registry(get_plugin_manager(load_entrypoints=False, env={}))
RULES = sorted(REGISTRY.rules, key=lambda r: r.id)
PLUGINS = tuple(gwdoctor.rules.gwdoctor_plugins)
SOURCES = sorted(p for p in (ROOT / "rules").glob("*.py") if p.name != "__init__.py")
RULE_MODULES = [p for p in SOURCES if not p.name.startswith("_")]
HELPER_MODULES = [p for p in SOURCES if p.name.startswith("_")]


def module_for(rule: Rule) -> str:
    """Where the convention says ``rule`` is defined (its area and, for most, a concept)."""
    return FALLBACK_MODULE if rule.fallback_after else f"gwdoctor.rules.{rule.area}"


def _modname(path: Path) -> str:
    return f"gwdoctor.rules.{path.stem}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_the_rule_module_follows_from_the_id(rule: Rule) -> None:
    module = rule.check.__module__
    assert REGISTRY.owner[rule.id] == module, (
        f"{rule.id} is defined in {module} but registered by {REGISTRY.owner[rule.id]}")
    base = module_for(rule)
    assert module == base or module.startswith(base + "_"), (
        f"{rule.id} (area {rule.area}) lives in {module}; the convention wants {base} or "
        f"{base}_<concept>")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_the_rule_has_one_case_file_and_one_docs_page(rule: Rule) -> None:
    cases = [p for p in (ROOT / "tests/rules").rglob("*.yaml") if p.stem == rule.id]
    assert [p.relative_to(ROOT).as_posix() for p in cases] == [f"tests/rules/cases/{rule.id}.yaml"]
    pages = [p for p in (ROOT / "docs").rglob("*.md") if p.stem == rule.id]
    assert [p.relative_to(ROOT).as_posix() for p in pages] == [f"docs/rules/{rule.id}.md"]


def test_every_rule_module_is_listed_once_in_gwdoctor_plugins() -> None:
    assert sorted(PLUGINS) == sorted(_modname(p) for p in RULE_MODULES), (
        "rules/__init__.py gwdoctor_plugins must list every rule module (and nothing else)")
    assert len(set(PLUGINS)) == len(PLUGINS)


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: p.name)
def test_rule_modules_register_their_rules_the_same_way(path: Path) -> None:
    """One hook, ``gwdoctor_register_rules``, returning exactly the rules the module defines:
    no rule lists exported under other names, no rules borrowed from another module."""
    module = importlib.import_module(_modname(path))
    hook = getattr(module, "gwdoctor_register_rules", None)
    assert hook is not None and hasattr(hook, "gwdoctor_impl"), f"{path.name}: no @hookimpl"
    returned = [r.id for r in hook()]
    rules = [v for v in vars(module).values() if isinstance(v, Rule)]
    assert all(r.check.__module__ == module.__name__ for r in rules), (
        f"{path.name} imports rules from another module; import helpers, not rules")
    defined = sorted(r.id for r in rules)
    assert sorted(returned) == defined, (
        f"{path.name}: the hook must return every rule the module defines, once, and no other")
    assert all(REGISTRY.owner[i] == module.__name__ for i in returned)
    lists = [name for name, v in vars(module).items() if isinstance(v, (list, tuple))
             and v and all(isinstance(x, Rule) for x in v)]
    assert lists == [], f"{path.name}: rules exported through {lists}; return them from the hook"


@pytest.mark.parametrize("path", HELPER_MODULES, ids=lambda p: p.name)
def test_helper_modules_hold_no_rules(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    def names(node: ast.expr) -> str:
        return getattr(node.func if isinstance(node, ast.Call) else node, "id", "")

    decorated = [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                 and any(names(d) in ("rule", "hookimpl") for d in node.decorator_list)]
    assert decorated == [], f"{path.name} is a helper: move {decorated} to a rule module"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_rule_modules_stay_under_the_house_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines; split it by concept"


def render_index() -> str:
    """The guide's table: each rule module, in registration order, with its rules' ids."""
    by_module: dict[str, list[str]] = {}
    for rule in RULES:
        by_module.setdefault(rule.check.__module__, []).append(rule.id)
    order = {name: i for i, name in enumerate(PLUGINS)}
    rows = ["| Module | Rules |", "|---|---|"]
    for module in sorted(by_module, key=lambda m: (order.get(m, len(order)), m)):
        path = "rules/" + module.rsplit(".", 1)[1] + ".py"
        ids = ", ".join(f"[{i}](rules/{i}.md)" for i in by_module[module])
        rows.append(f"| `{path}` | {ids} |")
    return "\n".join([INDEX_BEGIN, *rows, INDEX_END])


def _current_index(text: str) -> str:
    match = re.search(re.escape(INDEX_BEGIN) + ".*?" + re.escape(INDEX_END), text, re.S)
    assert match, f"{GUIDE.name}: no rule index block"
    return match.group(0)


def test_the_guide_indexes_every_rule_by_module() -> None:
    assert _current_index(GUIDE.read_text(encoding="utf-8")) == render_index(), (
        "docs/rule-authoring.md's rule index is stale: "
        "run `python tests/rules/test_rule_modules.py --write`")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/rules/test_rule_modules.py --write")
    text = GUIDE.read_text(encoding="utf-8")
    GUIDE.write_text(text.replace(_current_index(text), render_index()), encoding="utf-8")
