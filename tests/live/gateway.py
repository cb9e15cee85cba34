"""Fixtures for the gateway side: fake upstream and a real LiteLLM proxy (filled in by the gateway work)."""
