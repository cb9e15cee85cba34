"""The single source of the version number (kept import-free for a fast `--version`)."""

__version__ = "0.1.0"
