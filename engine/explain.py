"""Explain a pasted client error: match it against the error signatures and rank likely causes.
No I/O but reading knowledge files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .knowledge import KnowledgeError, builtin_dir, load_yaml_text, schema, validate
from .model import Rule

if TYPE_CHECKING:  # importlib.resources costs ~10 ms at start-up
    from importlib.resources.abc import Traversable

__all__ = ["Explanation", "Part", "Signature", "describe_parts", "explain_text", "load_faults",
           "load_signatures", "parse_signatures", "scan_hint"]

# A text match alone never proves a cause: the strongest single vote is 0.9, so two
# independent clues (0.99) always beat one.
MAX_VOTE = 0.9
# Each later rule in a signature's list counts this much less than the one before:
# the list is ordered "most likely first", so the 3rd rule of a 1.0 signature scores 0.64.
POSITION_DECAY = 0.8
# Pasted logs can be long (a whole `claude -p` transcript); signatures are searched in the
# first 64 KiB only, which bounds the regex work and holds every real error line we have seen.
MAX_TEXT = 64 * 1024


@dataclass(frozen=True)
class Signature:
    """One compiled entry of a ``signatures.yaml``."""

    pattern: re.Pattern[str]
    rules: tuple[str, ...]
    cause: str
    confirm: str
    note: str = ""
    source: str = ""
    weight: float = 1.0
    origin: str = ""  # "<dir>/signatures.yaml:<line>", for messages about the entry itself


@dataclass(frozen=True)
class Explanation:
    """One likely cause of a pasted error, as ``gwdoctor explain "<text>"`` prints it."""

    rule_id: str
    rule_name: str
    cause: str
    score: float
    confirm: str
    note: str = ""
    matched: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "rule_name": self.rule_name, "cause": self.cause,
                "score": self.score, "confirm": self.confirm, "note": self.note,
                "matched": list(self.matched)}


def explain_text(
    text: str, signatures: Iterable[Signature], rules_by_id: Mapping[str, Rule]
) -> list[Explanation]:
    """Rank the rules that explain ``text``, most likely first.

    Every signature whose pattern occurs in the text votes for its rules, the
    first at ``MAX_VOTE`` times the signature's weight and each later one ``POSITION_DECAY`` less.
    Votes combine as a noisy-OR (``1 - prod(1 - v)``): two independent clues
    beat one, and no pile of generic clues passes 1. Ties keep the order in
    which the rules were first named. Pure: the same input gives the same list.

    Args:
        text: the pasted error text (a line or a whole transcript).
        signatures: compiled signatures, e.g. from :func:`load_signatures`.
        rules_by_id: registered rules; they supply each result's name and
            cause. An id with no registered rule still appears, with the
            cause its signatures give and an empty name.
    """
    text = text[:MAX_TEXT]
    signatures = list(signatures)
    # A signature's cause is its first rule's: use it for ids with no registered rule.
    lead_cause: dict[str, str] = {}
    for sig in signatures:
        lead_cause.setdefault(sig.rules[0], sig.cause)
    miss: dict[str, float] = {}  # rule id -> product of (1 - vote)
    first_seen: dict[str, int] = {}
    clues: dict[str, list[tuple[int, str, str, str]]] = {}  # (position, confirm, note, matched)
    for sig in signatures:
        m = sig.pattern.search(text)
        if m is None:
            continue
        for position, rule_id in enumerate(sig.rules):
            vote = MAX_VOTE * sig.weight * POSITION_DECAY**position
            miss[rule_id] = miss.get(rule_id, 1.0) * (1.0 - vote)
            first_seen.setdefault(rule_id, len(first_seen))
            clues.setdefault(rule_id, []).append((position, sig.confirm, sig.note,
                                                  m.group(0)[:120]))
    results = []
    for rule_id, product in miss.items():
        rule = rules_by_id.get(rule_id)
        # A signature's note and confirm speak about its first rule; use those when this
        # rule leads some matching signature, else whatever mentions it.
        ordered = sorted(clues[rule_id], key=lambda c: c[0])
        leading = [c for c in ordered if c[0] == 0]
        results.append(Explanation(
            rule_id=rule_id,
            rule_name=rule.name if rule is not None else "",
            cause=rule.cause if rule is not None else lead_cause.get(rule_id, ""),
            score=round(1.0 - product, 4),
            confirm=" | ".join(_unique(c[1] for c in (leading or ordered))),
            note=next((c[2] for c in leading if c[2]), ""),
            matched=tuple(_unique(c[3] for c in ordered)),
        ))
    results.sort(key=lambda e: (-e.score, first_seen[e.rule_id], e.rule_id))
    return results


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def parse_signatures(data: Any, name: str, text: str | None = None) -> list[Signature]:
    """Validate one parsed ``signatures.yaml`` and compile its patterns.

    Raises :class:`KnowledgeError` naming ``name`` and, when ``text`` (the
    file's source) is given, the line of the offending entry."""
    if data is None:
        return []
    root = _compose(text) if text is not None else None
    if root is None:
        validate(data, "signatures", name)
    else:
        _validate_with_lines(data, root, name)
    lines = ([item.start_mark.line + 1 for item in root.value]
             if root is not None and _is_seq(root) else [])
    out = []
    for index, entry in enumerate(data):
        where = f"{name}:{lines[index]}" if index < len(lines) else f"{name}: entry {index + 1}"
        try:
            pattern = re.compile(entry["match"], re.IGNORECASE)
        except re.error as exc:
            raise KnowledgeError(f"{where}: match is not a valid regex: {exc}") from None
        if pattern.search("") is not None:
            raise KnowledgeError(f"{where}: match {entry['match']!r} matches empty text")
        out.append(Signature(
            pattern=pattern,
            rules=tuple(entry["rules"]),
            cause=entry["cause"],
            confirm=entry["confirm"],
            note=entry.get("note", ""),
            source=entry.get("source", ""),
            weight=float(entry.get("weight", 1.0)),
            origin=where,
        ))
    return out


def _compose(text: str) -> Any:
    import yaml  # the composer keeps each node's line, which safe_load drops

    return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _is_seq(node: Any) -> bool:
    import yaml

    return isinstance(node, yaml.SequenceNode)


def _validate_with_lines(data: Any, root: Any, name: str) -> None:
    """Schema-check ``data``; the error names the line of the offending YAML node."""
    import jsonschema
    import yaml

    validator = jsonschema.Draft202012Validator(schema("signatures"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    node = root
    for part in err.absolute_path:  # walk the YAML nodes along the JSON path
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part]
        elif isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), node)
    where = "/".join(str(p) for p in err.absolute_path) or "(top)"
    raise KnowledgeError(f"{name}:{node.start_mark.line + 1}: {where}: {err.message}")


def load_signatures(dirs: Iterable[Traversable] | None = None) -> list[Signature]:
    """Every ``signatures.yaml`` of the given knowledge directories, validated and compiled.

    ``dirs`` is usually ``registry.knowledge_dirs`` (the built-in
    ``gwdoctor.knowledge`` first, then plugins'); ``None`` means the built-in
    directory alone. A bad file raises :class:`KnowledgeError` with file and line."""
    out: list[Signature] = []
    for directory in (list(dirs) if dirs is not None else [builtin_dir()]):
        path = directory / "signatures.yaml"
        if not path.is_file():
            continue
        label = f"{getattr(directory, 'name', directory)}/signatures.yaml"
        text = path.read_text(encoding="utf-8")
        out.extend(parse_signatures(load_yaml_text(text, label), label, text))
    return out


# ---- parts of an error text (knowledge/faults.yaml): what a line says when no signature
# knows it ----

@dataclass(frozen=True)
class Part:
    """One part of a pasted error text and what it says on its own."""

    name: str
    value: str
    says: str
    meaning: str
    areas: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "says": self.says, "meaning": self.meaning,
                "areas": list(self.areas)}


def load_faults(dirs: Iterable[Traversable] | None = None) -> dict[str, Any]:
    """The ``faults.yaml`` catalogues of the knowledge directories, merged (lists appended,
    tables updated), each schema-checked."""
    merged: dict[str, Any] = {"parts": []}
    for directory in (list(dirs) if dirs is not None else [builtin_dir()]):
        path = directory / "faults.yaml"
        if not path.is_file():
            continue
        label = f"{getattr(directory, 'name', directory)}/faults.yaml"
        data = load_yaml_text(path.read_text(encoding="utf-8"), label)
        validate(data, "faults", label)
        for key, value in data.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
    return merged


def _meaning(entry: Mapping[str, Any], value: str, faults: Mapping[str, Any]) -> str:
    table = faults.get(entry["meanings_from"], {}) if entry.get("meanings_from") else {
        k.lower(): v for k, v in (entry.get("meanings") or {}).items()}
    key = value if entry.get("meanings_from") else value.lower()
    # Exact first, then trailing digits as x: a table may say "405", "40x" or "4xx".
    for candidate in (key, re.sub(r"\d$", "x", key), re.sub(r"\d\d$", "xx", key)):
        if candidate in table:
            return str(table[candidate])
    return ""


def describe_parts(text: str, faults: Mapping[str, Any]) -> list[Part]:
    """Every part of ``text`` the catalogue knows (a status, an error type, a network code,
    who wrote it, the client's own hint), each with what it says on its own. Pure."""
    text = text[:MAX_TEXT]
    out: list[Part] = []
    for entry in faults.get("parts") or []:
        seen: set[str] = set()
        for m in re.finditer(entry["match"], text, re.IGNORECASE | re.MULTILINE):
            value = m.group("value")
            if not value or value.lower() in seen:
                continue
            seen.add(value.lower())
            out.append(Part(name=entry["name"], value=value, says=entry["says"].format(value=value),
                            meaning=_meaning(entry, value, faults), areas=tuple(entry["areas"])))
    return out + _faults_in(text, out, faults)


# A catalogue fault's conditions other than ``text`` are read from the parts of the same name
# (a fault with ``status: [403]`` holds when a part named ``status`` has the value 403).
_CONDITIONS = ("status", "error_type")


def _faults_in(text: str, parts: list[Part], faults: Mapping[str, Any]) -> list[Part]:
    """The catalogue's normalized faults (the ones the scan assigns probe-side) that the
    pasted text shows, so explain and scan name the same fault."""
    found: list[Part] = []
    values = {name: {p.value.lower() for p in parts if p.name == name} for name in _CONDITIONS}
    for fault in faults.get("faults") or []:
        held = ([re.search(fault["text"], text, re.IGNORECASE) is not None]
                if fault.get("text") else [])
        held += [bool(values[key] & {str(v).lower() for v in fault[key]})
                 for key in _CONDITIONS if key in fault]
        if held and all(held):
            found.append(Part(name="fault", value=fault["id"], says=f"fault {fault['id']}",
                              meaning=fault["means"],
                              areas=(fault["layer"],) if fault["layer"] != "sse" else ("model",)))
    return found


def scan_hint(parts: Iterable[Part]) -> str:
    """The scan that tells this text's causes apart: ``--only`` the areas its parts point at."""
    areas = list(dict.fromkeys(a for p in parts for a in p.areas))
    return f"gwdoctor scan --only {','.join(areas)}" if areas else "gwdoctor scan"
