"""The deployable model: scoring path and reason codes."""
