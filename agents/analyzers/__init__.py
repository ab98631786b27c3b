"""agents/analyzers."""
