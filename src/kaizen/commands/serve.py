"""serve: the prediction API (FastAPI on uvicorn). Flags override `KAIZEN_*` variables
(`kaizen.runtime.Serving`); the bundle and the event store are checked before the server
starts, so that a missing or corrupt bundle, or a store without tables, stops it with one line."""

from __future__ import annotations

import argparse

from kaizen.runtime import Serving


def register(commands: argparse._SubParsersAction) -> None:
    """Add `serve`."""
    cmd = commands.add_parser("serve", help="serve the model over HTTP (prediction API)")
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=8000)
    cmd.add_argument(
        "--bundle", help="the deployable folder (KAIZEN_BUNDLE, default models/bundle)"
    )
    cmd.add_argument("--db", help="event store: a path, sqlite:///… or postgresql://… (KAIZEN_DB)")
    cmd.add_argument("--threshold", type=float, help="refuse scores >= this (KAIZEN_THRESHOLD)")
    cmd.add_argument("--max-batch", type=int, help="applications per request (KAIZEN_MAX_BATCH)")
    cmd.add_argument("--access-log", action="store_true", help="log every request (uvicorn)")
    cmd.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> None:
    """Check the model and the store, then serve until interrupted."""
    # pylint: disable=import-outside-toplevel  # the web stack loads only for this command
    import uvicorn

    from kaizen.serving.app import create_app
    from kaizen.serving.service import Service

    settings = Serving.load(
        bundle=args.bundle, db=args.db, threshold=args.threshold, max_batch=args.max_batch
    )
    service = Service.open(settings)
    uvicorn.run(
        create_app(settings, service),
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        log_level="info",
        server_header=False,
    )
