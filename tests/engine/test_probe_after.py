"""`@probe(after=...)`: a probe that reads what others saw runs once they finished, whatever they
found, and `--only` keeps it with the probes it reads."""

from __future__ import annotations

from gwdoctor.engine import ProbeSkipped, probe
from gwdoctor.engine.collect import run_probes
from gwdoctor.engine.model import Options
from gwdoctor.engine.registry import with_prerequisites


@probe(name="a.first", provides=("a.x",))
def first(ctx):  # noqa: ANN001, ANN201
    return {"a.x": 1}


@probe(name="a.skipped", provides=("a.y",))
def skipped(ctx):  # noqa: ANN001, ANN201
    raise ProbeSkipped("nothing to do")


@probe(name="b.reader", provides=("b.seen",), after=("a.x", "a.y"))
def reader(ctx):  # noqa: ANN001, ANN201
    return {"b.seen": sorted(k for k in ("a.x", "a.y") if k in ctx.facts)}


def _run(probes: list) -> dict:  # noqa: ANN001
    owner = {p.name: "test" for p in probes}
    return run_probes(probes, owner, env={}, options=Options(), budget=10.0).facts


def test_it_runs_after_its_providers_even_when_one_was_skipped() -> None:
    facts = _run([reader, first, skipped])
    assert facts["b.seen"] == ["a.x"]  # ran, after a.first finished; a.y absent, not a blocker


def test_only_keeps_a_reader_of_kept_probes() -> None:
    kept = with_prerequisites([first, skipped, reader], [first])
    assert [p.name for p in kept] == ["a.first", "b.reader"]
    assert [p.name for p in with_prerequisites([first, reader], [])] == []
