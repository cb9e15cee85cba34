"""A plugin whose import fails, as one built for another gwdoctor version would."""

from gwdoctor.engine import no_such_name  # noqa: F401
