"""Clickport-compatible analytics: the shared package of every function and the local runtime."""

__version__ = "0.1.0"
