"""The probe runner: dependencies, skips, concurrency, errors and timeouts (no network)."""

from __future__ import annotations

import threading
import time

from gwdoctor.engine import Options, ProbeSkipped, probe
from gwdoctor.engine.collect import run_probes


def run(probes, **kw):
    owners = {p.name: "test" for p in probes}
    return run_probes(probes, owners, env={}, options=kw.pop("options", Options(probe_timeout=1.0)),
                      budget=kw.pop("budget", 10.0), **kw)


def status(coll):
    return {r.name: r.status for r in coll.records}


def test_dependent_probe_is_skipped_when_its_prerequisite_is_false():
    calls = []

    @probe(name="a", provides=("a.ok",))
    def a(ctx):
        return {"a.ok": False}

    @probe(name="b", provides=("b.x",), requires=("a.ok",))
    def b(ctx):
        calls.append("b")
        return {"b.x": 1}

    coll = run([a, b])
    assert calls == []
    assert status(coll) == {"a": "ok", "b": "skipped"}
    assert "a.ok" in coll.records[1].detail


def test_dependent_probe_is_skipped_when_its_provider_raised():
    @probe(name="a", provides=("a.v",))
    def a(ctx):
        raise RuntimeError("boom")

    @probe(name="b", provides=("b.v",), needs=("a.v",))
    def b(ctx):
        return {"b.v": ctx.facts["a.v"]}

    coll = run([a, b])
    assert status(coll) == {"a": "error", "b": "skipped"}
    assert coll.facts["engine.probe_errors"] == [{"probe": "a", "plugin": "test",
                                                  "error": "RuntimeError: boom"}]
    assert "needs a.v (probe a error)" in coll.records[1].detail


def test_downstream_sees_upstream_facts():
    @probe(name="a", provides=("a.v",))
    def a(ctx):
        return {"a.v": 41}

    @probe(name="b", provides=("b.v",), needs=("a.v",))
    def b(ctx):
        return {"b.v": ctx.facts["a.v"] + 1}

    assert run([b, a]).facts["b.v"] == 42


def test_independent_probes_run_concurrently():
    barrier = threading.Barrier(3, timeout=2)

    def make(n):
        @probe(name=f"p{n}", provides=(f"p{n}.v",))
        def p(ctx):
            barrier.wait()  # deadlocks (and times out) unless all three run at once
            return {f"p{n}.v": n}
        return p

    coll = run([make(1), make(2), make(3)])
    assert set(status(coll).values()) == {"ok"}


def test_overrunning_probe_times_out_and_the_rest_completes():
    @probe(name="slow", provides=("slow.v",), timeout=0.3)
    def slow(ctx):
        time.sleep(5)
        return {"slow.v": 1}

    @probe(name="fast", provides=("fast.v",))
    def fast(ctx):
        return {"fast.v": 1}

    t0 = time.monotonic()
    coll = run([slow, fast])
    assert time.monotonic() - t0 < 2.5  # the 5 s sleep is abandoned, not waited on
    assert status(coll) == {"slow": "timeout", "fast": "ok"}
    assert "slow.v" not in coll.facts
    assert coll.facts["engine.probe_timeouts"][0]["probe"] == "slow"


def test_scan_budget_skips_what_could_not_start():
    @probe(name="first", provides=("first.v",), timeout=5)
    def first(ctx):
        time.sleep(3)
        return {"first.v": 1}

    @probe(name="second", provides=("second.v",), needs=("first.v",))
    def second(ctx):
        return {"second.v": 1}

    coll = run([first, second], budget=0.5)
    assert status(coll) == {"first": "timeout", "second": "skipped"}
    assert "budget" in coll.records[0].detail


def test_probe_skipped_exception_and_offline_flags():
    @probe(name="net", provides=("net.v",), network=True)
    def net(ctx):
        return {"net.v": 1}

    @probe(name="self_skip", provides=("s.v",))
    def self_skip(ctx):
        raise ProbeSkipped("plain http: no handshake")

    coll = run([net, self_skip], options=Options(offline=True))
    assert status(coll) == {"net": "skipped", "self_skip": "skipped"}
    assert coll.records[0].detail.startswith("--offline")
    assert coll.records[1].detail == "plain http: no handshake"


def test_the_probe_reports_its_status_and_undeclared_keys_are_dropped():
    @probe(name="dns", provides=("dns.gateway",))
    def dns(ctx):
        return {"dns.gateway": {"status": "nxdomain"}, "dns.extra": 1, "_status": "failed",
                "_detail": "dns.gateway: nxdomain"}

    coll = run([dns])
    assert status(coll) == {"dns": "failed"}
    assert "dns.extra" not in coll.facts and "_status" not in coll.facts
    assert coll.records[0].detail == ("dns.gateway: nxdomain; "
                                      "undeclared facts dropped: ['dns.extra']")


def test_the_engine_reads_no_status_word_in_the_facts():
    @probe(name="dns", provides=("dns.gateway",))
    def dns(ctx):
        return {"dns.gateway": {"status": "nxdomain"}}

    assert status(run([dns])) == {"dns": "ok"}


def test_a_built_in_probe_reports_failed_from_its_facts_status():
    from gwdoctor.probes._outcome import reporting

    @probe(name="dns", provides=("dns.gateway", "dns.proxy"))
    def dns(ctx):
        return {"dns.proxy": {"status": "ok"}, "dns.gateway": {"status": "nxdomain"}}

    coll = run(reporting([dns]))
    assert status(coll) == {"dns": "failed"}
    assert coll.records[0].detail == "dns.gateway: nxdomain"
    assert dns.run(None) == {"dns.proxy": {"status": "ok"}, "dns.gateway": {"status": "nxdomain"}}
