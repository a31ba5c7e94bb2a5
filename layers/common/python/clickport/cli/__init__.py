"""The operator's command line: ``clickport``."""
