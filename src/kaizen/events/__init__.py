"""The event database: its only owner. Every prediction the API makes, the outcomes fed back,
and the monitor's runs, in one SQLAlchemy Core schema (SQLite or PostgreSQL).

schema.py       every table, in one MetaData
engine.py       KAIZEN_DB -> an engine with the backend's durability settings
migrate.py      creating the tables and checking their version
predictions.py  prediction events and their feedback
windows.py      the monitor's windows of events
runs.py         the monitor's runs and their signals
bundles.py      the registered bundles (bundle.json documents by version)
"""
