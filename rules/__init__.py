"""Built-in rules, one module per area; each module is a plugin."""
