"""Production monitoring over stored prediction events (pure modules; I/O in commands/monitor).

- `performance`: performance estimated from calibrated scores before outcomes arrive (CBPE),
  and realised on matured events (AUC, Gini, KS, calibration by grade, cost, ECB AUC test);
- `levels`: a signal and its level (ok / warning / critical / insufficient data), the persistence
  rule, the overall level; `window`: the reference and the window compared;
- `drift_signals`, `performance_signals`: the signals; `signals`: the whole report of a window;
- `report`: the typed report (read by attribute by the renderers; `to_dict` is report.json);
- `render`: report.md and metrics.prom; `html`: the self-contained report.html (inline SVG);
- `alerts`: which signals to alert, the Slack-compatible payload, the webhook with retries.
"""
