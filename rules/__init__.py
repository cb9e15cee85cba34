"""Built-in rules, one module per area; each module is a plugin."""

# The plugin modules of this package, in registration order. The engine registers them when it
# loads the `gwdoctor.rules` entry point; a new rule module is added here.
gwdoctor_plugins = (
    "gwdoctor.rules.config",
    "gwdoctor.rules.provider",
    "gwdoctor.rules.dns",
    "gwdoctor.rules.proxy",
    "gwdoctor.rules.tls",
    "gwdoctor.rules.auth",
    "gwdoctor.rules.gateway",
    "gwdoctor.rules.model",
    "gwdoctor.rules.client",
    "gwdoctor.rules.retired",
    "gwdoctor.rules.unexplained",
    "gwdoctor.rules.engine",
)
