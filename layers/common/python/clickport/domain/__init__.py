"""Pure domain logic: no adapters, no AWS, no SQL engines."""
