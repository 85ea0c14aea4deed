"""The prediction API (FastAPI) and its event store: `kaizen serve`, `kaizen events`.

payloads.py  request/response models, the application model generated from the saved schema
store.py     the event store (SQLAlchemy Core: SQLite in WAL mode, or PostgreSQL with psycopg 3)
pii.py       personal-data fields dropped or replaced by a keyed hash before storage
metrics.py   Prometheus metrics, one registry per application
app.py       the application: lifespan (model + store), request ids, routers per resource
"""
