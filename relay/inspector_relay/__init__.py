"""inspector-relay: deliver an Inspector bin's requests to a local URL."""
