"""Fair lending: protected groups, the fairness report's measures, reason-code stability."""
