"""Real parts on loopback for tests and benchmarks: fake upstream, LiteLLM, squid, TLS servers."""
