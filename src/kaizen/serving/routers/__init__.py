"""One router per resource: predict, feedback, health (health, ready, metrics)."""
