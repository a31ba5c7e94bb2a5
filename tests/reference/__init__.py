"""A pure-Python reference of the Stats query semantics (spec §3.8), and helpers to store event fixtures."""
