"""The Stats query path: request model → semantic validation → QueryPlan → SQL → engine → response."""
