"""Built-in probes, one module per area; each module is a plugin."""

# The plugin modules of this package, registered in this order (the order of the probes in
# every report). The engine registers them when it loads the `gwdoctor.probes` entry point.
gwdoctor_plugins = (
    "gwdoctor.probes.config",
    "gwdoctor.probes.provider",
    "gwdoctor.probes.dns",
    "gwdoctor.probes.proxy",
    "gwdoctor.probes.tls",
    "gwdoctor.probes.auth",
    "gwdoctor.probes.gateway",
    "gwdoctor.probes.model",
    "gwdoctor.probes.faults",
)
