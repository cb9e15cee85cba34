"""Host names matched against the named lists of the knowledge files (`hosts.yaml`): suffixes and
IP networks. Holds no list of its own."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Union

__all__ = ["HostList", "host_in_list", "host_list"]

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


@dataclass(frozen=True)
class HostList:
    """One named list: a host is in it when its address is in ``networks``, or its name ends
    in one of ``suffixes``, or (``single_label``) it has no dot."""

    suffixes: tuple[str, ...]
    networks: tuple[Network, ...]
    single_label: bool = False


@functools.lru_cache(maxsize=None)
def host_list(name: str) -> HostList:
    """The list ``name`` of the built-in ``hosts.yaml``; KeyError when there is none."""
    from .knowledge import builtin_dir, read_yaml

    entry = read_yaml(builtin_dir(), "hosts.yaml")["lists"][name]
    return HostList(suffixes=tuple(s.lower() for s in entry["suffixes"]),
                    networks=tuple(ipaddress.ip_network(n) for n in entry["networks"]),
                    single_label=bool(entry.get("single_label")))


def host_in_list(host: str | None, name: str) -> bool:
    """Whether ``host`` (a name or an IP literal, brackets and a trailing dot allowed) is in the
    list ``name``. An empty host is in no list."""
    host = (host or "").strip().strip("[]").lower().rstrip(".")
    if not host:
        return False
    wanted = host_list(name)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return (wanted.single_label and "." not in host) or host.endswith(wanted.suffixes)
    return any(ip in net for net in wanted.networks if net.version == ip.version)
