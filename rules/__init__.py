"""Built-in rules, one module per fault family (`<area>.py`, `<area>_<concept>.py`); each module
is a plugin (docs/rule-authoring.md, "Where a rule lives")."""

# The plugin modules of this package, in registration order. The engine registers them when it
# loads the `gwdoctor.rules` entry point; a new rule module is added here.
gwdoctor_plugins = (
    "gwdoctor.rules.config",
    "gwdoctor.rules.config_client",
    "gwdoctor.rules.config_litellm",
    "gwdoctor.rules.config_trust",
    "gwdoctor.rules.provider",
    "gwdoctor.rules.provider_access",
    "gwdoctor.rules.provider_models",
    "gwdoctor.rules.provider_route",
    "gwdoctor.rules.dns",
    "gwdoctor.rules.proxy",
    "gwdoctor.rules.proxy_connect",
    "gwdoctor.rules.tls",
    "gwdoctor.rules.tls_config",
    "gwdoctor.rules.auth",
    "gwdoctor.rules.gateway",
    "gwdoctor.rules.gateway_answers",
    "gwdoctor.rules.gateway_request_size",
    "gwdoctor.rules.model",
    "gwdoctor.rules.model_retired",
    "gwdoctor.rules.model_deployment",
    "gwdoctor.rules.unexplained",
    "gwdoctor.rules.engine",
)
