"""Pure enrichment of incoming events: bots, URLs, sources and channels, technology, places."""
