"""Built-in probes, one module per area; each module is a plugin."""
