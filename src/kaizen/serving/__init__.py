"""The prediction API (FastAPI): `kaizen serve`. Its events are stored by `kaizen.events`.

payloads.py  request/response models, the application model generated from the saved schema
pii.py       personal-data fields dropped or replaced by a keyed hash before storage
metrics.py   Prometheus metrics, one registry per application
app.py       the application: lifespan (model + store), request ids, routers per resource
"""
