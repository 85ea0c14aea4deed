"""Alembic migrations of the event database, run by `kaizen.events.migrate` (no alembic.ini):
`env.py` takes the connection it is given, `versions/` holds one module per revision."""
