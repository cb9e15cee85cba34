"""Hardening tier: hostile servers, hostile files and environments, bounded time, memory and
output."""
