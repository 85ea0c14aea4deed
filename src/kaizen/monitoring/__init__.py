"""Production monitoring over stored prediction events (pure modules; I/O in commands/monitor).

- `performance`: performance estimated from calibrated scores before outcomes arrive (CBPE),
  and realised on matured events (AUC, Gini, KS, calibration by grade, cost, ECB AUC test);
- `signals`: one level per signal (ok / warning / critical / insufficient data), the persistence
  rule, the overall level and the whole report of a window;
- `render`: report.md and metrics.prom; `html`: the self-contained report.html (inline SVG);
- `alerts`: which signals to alert, the Slack-compatible payload, the webhook with retries.
"""
