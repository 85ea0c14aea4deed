"""Drift between a reference and a current sample: `statistics` (tests and effect sizes),
`verdicts` (what is flagged, the report), `rendering` (Markdown). Computation never imports
rendering."""
