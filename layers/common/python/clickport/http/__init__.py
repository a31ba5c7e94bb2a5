"""HTTP layer: the resolver factory every function uses, error envelopes, the OpenAPI document."""
