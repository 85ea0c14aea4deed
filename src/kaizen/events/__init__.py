"""The event database: its only owner. Every prediction the API makes, the outcomes fed back,
and the monitor's runs, in one SQLAlchemy Core schema (SQLite or PostgreSQL).

predictions.py  the event store: prediction events and their feedback
windows.py      the monitor's side: windows of events, its runs and their signals
"""
