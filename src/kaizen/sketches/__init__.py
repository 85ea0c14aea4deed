"""Mergeable profiles of prediction events (Apache DataSketches): what a monitor window reads
instead of every event."""
