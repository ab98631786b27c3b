"""agents/specialists."""
