"""Data model shared by the engine, probes and rules: frozen values, no I/O, nothing at import."""

from __future__ import annotations

import enum
import hashlib
import inspect
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

Facts = Mapping[str, Any]
"""Fact key (``area.subject[.detail]``) to a JSON-safe value. A missing key means
"not probed"; ``None`` means "probed, nothing there"."""


class Severity(enum.IntEnum):
    """One scale, no aliases. JSON uses the lower-case name."""

    INFO = 10
    WARNING = 20
    ERROR = 40
    CRITICAL = 50

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {value!r} (expected critical, error, warning or info)"
            ) from None


FIX_LANGS = ("sh", "json", "yaml", "text")
FIX_SAFETY = ("safe", "review", "manual")


@dataclass(frozen=True)
class Fix:
    """A ready-to-paste remedy. ``target`` says where it goes (``shell``,
    ``~/.claude/settings.json``, ``litellm config.yaml``); ``safety`` is ruff's
    fix safety: ``safe`` changes nothing that worked, ``review`` may, ``manual``
    needs a human decision."""

    title: str
    snippet: str
    lang: str = "sh"
    target: str = "shell"
    safety: str = "review"

    def __post_init__(self) -> None:
        if self.lang not in FIX_LANGS:
            raise ValueError(f"Fix.lang must be one of {FIX_LANGS}, not {self.lang!r}")
        if self.safety not in FIX_SAFETY:
            raise ValueError(f"Fix.safety must be one of {FIX_SAFETY}, not {self.safety!r}")


@dataclass(frozen=True)
class Finding:
    """What a rule returns. The engine adds id, name, cause, rank and the graph
    placement. ``severity``/``confidence`` override the rule's defaults only when
    the facts justify it (e.g. a known TLS-inspection vendor in the issuer)."""

    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    fixes: tuple[Fix, ...] = ()
    severity: Severity | None = None
    confidence: float | None = None


class ProbeSkipped(Exception):
    """Raised by a probe whose semantic prerequisite does not hold (e.g. the
    gateway URL is plain http, so there is no handshake to make)."""


class Vault:
    """Secret values shared between the probes of one scan.

    Facts never hold a secret; a probe that needs one (the auth probe needs the
    token to send it) reads it here. The vault is never serialised, and every
    value in it is scrubbed from the report as a last line of defence."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, name: str, value: str | None) -> None:
        if value:
            with self._lock:
                self._values[name] = value

    def get(self, name: str, default: str | None = None) -> str | None:
        with self._lock:
            return self._values.get(name, default)

    def items(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._values.items())


def describe_secret(value: str | None) -> dict[str, Any]:
    """The only shape in which a credential may become a fact."""
    if value is None:
        return {"present": False}
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return {"present": True, "length": len(value), "fingerprint": f"sha256:{digest[:8]}"}


@dataclass(frozen=True)
class ScanOption:
    """A command-line option of ``scan`` and ``facts`` that a plugin's probes read, declared
    through ``gwdoctor_register_scan_options``; a probe reads its value with
    ``ctx.options.get(option.dest)`` (None when not given)."""

    flag: str  # "--like-this"
    help: str
    metavar: str | None = None
    is_flag: bool = False  # a switch: True when given
    path: bool = False  # a file (a directory is a usage error)

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Options:
    """Scan options a probe may consult (set from the CLI)."""

    offline: bool = False
    no_inference: bool = False
    probe_timeout: float = 4.0
    # The values of the options plugins declare (ScanOption.dest -> value).
    plugin: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """A plugin-declared option's value, ``default`` when it was not given."""
        value = self.plugin.get(name)
        return default if value is None else value


@dataclass
class ProbeContext:
    """All a probe may touch. Tests build one with fakes (``env``, ``home``,
    ``cwd``, ``transport``); the engine builds the real one per scan."""

    env: Mapping[str, str]
    facts: Facts
    home: Path = field(default_factory=Path.home)
    cwd: Path = field(default_factory=Path.cwd)
    options: Options = field(default_factory=Options)
    vault: Vault = field(default_factory=Vault)
    # An httpx transport to use instead of the network (unit tests only).
    transport: Any = None
    # Root for the system paths a probe reads (under /etc): tests point it at a tmp dir.
    root: Path = Path("/")

    @property
    def timeout(self) -> float:
        return self.options.probe_timeout


ProbeFunc = Callable[[ProbeContext], Mapping[str, Any]]
RuleFunc = Callable[[Facts], "Finding | Iterable[Finding] | None"]


@dataclass(frozen=True)
class Probe:
    """Built by :func:`probe`. ``needs``: fact keys that must be present (their
    providers run first). ``requires``: fact keys that must be present *and
    truthy*, else the probe is skipped with the reason recorded. ``network``
    probes are skipped by ``--offline``; ``inference`` probes by
    ``--no-inference``. ``after``: fact keys whose providers must have finished
    (whatever their outcome) before this probe runs; the keys may be missing (a
    probe that reads what the others saw, such as a classifier)."""

    name: str
    func: ProbeFunc
    provides: tuple[str, ...]
    needs: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    network: bool = False
    inference: bool = False
    timeout: float | None = None
    doc: str = ""
    after: tuple[str, ...] = ()

    def run(self, ctx: ProbeContext) -> dict[str, Any]:
        return dict(self.func(ctx))


def probe(
    *,
    name: str,
    provides: Iterable[str],
    needs: Iterable[str] = (),
    requires: Iterable[str] = (),
    network: bool = False,
    inference: bool = False,
    timeout: float | None = None,
    after: Iterable[str] = (),
) -> Callable[[ProbeFunc], Probe]:
    """Wrap a probe function with literal metadata. Registers nothing."""

    def wrap(func: ProbeFunc) -> Probe:
        return Probe(
            name=name,
            func=func,
            provides=tuple(provides),
            needs=tuple(needs),
            requires=tuple(requires),
            network=network,
            inference=inference,
            timeout=timeout,
            doc=inspect.getdoc(func) or "",
            after=tuple(after),
        )

    return wrap


class UndeclaredFactError(Exception):
    """A rule read a fact it declares in neither ``needs`` nor ``reads``.

    Not a ``KeyError``: ``facts.get(key)`` must not turn a hidden input into a silent ``None``."""

    def __init__(self, rule_id: str, key: str) -> None:
        super().__init__(f"rule {rule_id} read fact {key!r}, which is in neither its needs nor "
                         f"its reads")
        self.rule_id, self.key = rule_id, key


class FactView(Mapping[str, Any]):
    """What a rule sees: the facts it declares, read-only. Reading (``[]``, ``get``, ``in``)
    any other key raises :class:`UndeclaredFactError`; iteration yields only declared keys
    that are present, so a hidden input cannot slip in through ``items()`` either."""

    __slots__ = ("_facts", "_rule_id", "_declared")

    def __init__(self, facts: Facts, rule_id: str, declared: Iterable[str]) -> None:
        self._facts, self._rule_id, self._declared = facts, rule_id, frozenset(declared)

    def declares(self, key: str) -> bool:
        return key in self._declared

    def _check(self, key: str) -> None:
        if key not in self._declared:
            raise UndeclaredFactError(self._rule_id, key)

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return self._facts[key]

    def __contains__(self, key: object) -> bool:
        self._check(str(key))
        return key in self._facts

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._facts if k in self._declared)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"FactView({self._rule_id}, {sorted(self._declared)})"


@dataclass(frozen=True)
class Rule:
    """Built by :func:`rule`: a pure function of facts with literal metadata."""

    id: str
    name: str
    cause: str
    severity: Severity
    needs: tuple[str, ...]
    check: RuleFunc
    confidence: float = 0.8
    doc: str = ""
    # A fallback rule reports a failure no other rule explained: the engine drops its
    # finding when a non-fallback finding at least as severe fired in one of these areas.
    fallback_after: tuple[str, ...] = ()
    # Facts the rule may read when present (``needs`` are the ones it cannot do without).
    reads: tuple[str, ...] = ()

    @property
    def area(self) -> str:
        """The area of the rule's id prefix in the knowledge's area table; ``other`` if none."""
        from .knowledge import areas  # on use: reads knowledge/areas.yaml once

        return areas().get(self.id[:3], "other")

    def evaluate(self, facts: Facts) -> list[Finding]:
        """Run the check on a read-only view of ``facts`` limited to ``needs`` and ``reads``:
        reading any other fact raises :class:`UndeclaredFactError`."""
        result = self.check(FactView(facts, self.id, (*self.needs, *self.reads)))
        if result is None:
            return []
        if isinstance(result, Finding):
            return [result]
        return [f for f in result if f is not None]


def rule(
    *,
    id: str,
    name: str,
    cause: str,
    severity: Severity | str,
    needs: Iterable[str] = (),
    confidence: float = 0.8,
    fallback_after: Iterable[str] = (),
    reads: Iterable[str] = (),
) -> Callable[[RuleFunc], Rule]:
    """Wrap a rule function with literal metadata. Registers nothing.

    ``needs``: the facts the rule cannot judge without (it is not evaluated when one is
    missing). ``reads``: the facts it also looks at when they are present. Together they are
    everything the rule may read; any other fact raises :class:`UndeclaredFactError`.

    ``fallback_after``: the areas (see :attr:`Rule.area`) whose findings explain what this
    rule reports; a finding of this rule is kept only when none of them fired at its
    severity or above (a catch-all for failures no specific rule recognises)."""

    def wrap(func: RuleFunc) -> Rule:
        return Rule(
            id=id,
            name=name,
            cause=cause,
            severity=Severity.parse(severity),
            needs=tuple(needs),
            check=func,
            confidence=confidence,
            doc=inspect.getdoc(func) or "",
            fallback_after=tuple(fallback_after),
            reads=tuple(reads),
        )

    return wrap
