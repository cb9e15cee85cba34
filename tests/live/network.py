"""Fixtures for the network side: squid, TLS servers, tarpit, closed port (filled in by the network work)."""
