"""mlflow log, mlflow promote: the workspace's pipeline run mirrored to an MLflow tracking server
and model registry, for teams whose platform is MLflow. Git + DVC stay the source of truth.

`log` refuses a workspace whose pipeline is out of date or whose dvc.lock is not committed: a run
is keyed by its commit (`kaizen.commit`), and logging the same commit again updates that run (the
model is logged, and registered, once per run). MLflow is an optional extra, imported on use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import kaizen
from kaizen import KaizenError
from kaizen.experiments import selection as experiments
from kaizen.io import files
from kaizen.experiments import tracking
from kaizen.commands import pipeline, runner
from kaizen.commands.sweep import exp_table
from kaizen.io.params import load_params
from kaizen.bundle import artifact
from kaizen.runtime import Mlflow, bundle_folder

DEFAULT_URI = "sqlite:///mlruns.db"  # git-ignored; MLFLOW_TRACKING_URI or --tracking-uri win
TRACKING_URI = Mlflow.variable("tracking_uri")  # MLflow's own variable, read by runtime
DEFAULT_EXPERIMENT = "kaizen"
DEFAULT_NAME = "credit"  # registered model name of `mlflow promote`
INSTALL = "make install-mlflow (or pip install -e '.[mlflow]')"
CHALLENGER, CHAMPION = "challenger", "champion"
MODEL_ARTIFACT = "model"
EXAMPLE_ROWS = 5
logger = logging.getLogger(__name__)  # `log` is the command
# What loading the pipeline imports: the model's libraries, skops (its file format) and what
# kaizen's own transformers import (kaizen.pipeline.features -> kaizen.config: pydantic, PyYAML).
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy", "skops", "pydantic", "pyyaml")


def import_mlflow():
    """The mlflow module, or a one-line error naming the install command."""
    try:
        import mlflow  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise KaizenError(f"MLflow is not installed: run `{INSTALL}`") from None
    return mlflow


def tracking_uri(option: str | None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the local sqlite file."""
    return Mlflow.load(tracking_uri=option or None).tracking_uri or DEFAULT_URI


def client(uri: str):
    """An MlflowClient on `uri` (its registry too, unless MLFLOW_REGISTRY_URI says otherwise)."""
    return import_mlflow().MlflowClient(tracking_uri=uri)


@contextlib.contextmanager
def fluent_uri(uri: str) -> Iterator[Any]:
    """The mlflow module with its global tracking URI at `uri` for the block (log_model and
    register_model use it). MLflow exports that URI as MLFLOW_TRACKING_URI for child processes:
    it is put back as it was after the block, so that nothing leaks into later processes."""
    mlflow = import_mlflow()
    before = Mlflow.load().tracking_uri
    mlflow.set_tracking_uri(uri)
    try:
        yield mlflow
    finally:
        mlflow.set_tracking_uri(before)  # None unsets both the global and the variable


# --- the workspace --------------------------------------------------------------------------------


def committed_run(files_to_check: list[str]) -> str:
    """HEAD's commit id, when the pipeline is up to date and its state committed."""
    commit = runner.resolve("HEAD")
    stale = json.loads(runner.dvc("status", "--json").stdout or "{}")
    if stale:
        raise KaizenError(
            f"pipeline not up to date (dvc status: {', '.join(sorted(stale))} changed): "
            "run `dvc repro`, commit, then log"
        )
    dirty = runner.git("status", "--porcelain", "--", *files_to_check).stdout.split("\n")
    changed = [line[3:] for line in dirty if line.strip()]
    if changed:
        raise KaizenError(
            f"uncommitted changes to {', '.join(changed)}: commit the pipeline run first "
            "(MLflow runs are keyed by commit)"
        )
    return commit


def read_metrics(metric_files: dict[str, str]) -> tuple[dict[str, float], dict[str, str]]:
    """Every declared metrics file as `<stage>.<key>` metrics and text tags."""
    numbers: dict[str, float] = {}
    texts: dict[str, str] = {}
    for path, stage in metric_files.items():
        found, text = tracking.run_metrics(stage, files.read_json(path))
        numbers.update(found)
        texts.update(text)
    return numbers, texts


def model_requirements() -> list[str]:
    """Pinned requirements of the logged model, at this environment's versions."""
    return [f"{name}=={metadata.version(name)}" for name in MODEL_REQUIREMENTS]


# --- MLflow ---------------------------------------------------------------------------------------


def experiment_id(mlflow_client, name: str) -> str:
    """The id of experiment `name`, created when missing."""
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage != "active":
            raise KaizenError(f"MLflow experiment {name!r} is deleted: restore it or pick another")
        return found.experiment_id
    return mlflow_client.create_experiment(name)


def find_run(mlflow_client, experiment: str, tag: str, value: str):
    """The run of `experiment` whose tag `tag` is `value`, or None."""
    runs = mlflow_client.search_runs(
        [experiment], filter_string=f"tags.`{tag}` = '{value}'", max_results=2
    )
    return runs[0] if runs else None


def upsert_run(mlflow_client, experiment: str, tag: str, value: str, *, name: str, tags: dict):
    """(run id, its logged data or None when new): the run tagged `tag=value`, or a new one."""
    found = find_run(mlflow_client, experiment, tag, value)
    if found is not None:
        return found.info.run_id, found.data
    run = mlflow_client.create_run(experiment, tags={tag: value, **tags}, run_name=name)
    return run.info.run_id, None


def record(mlflow_client, run_id: str, logged, *, params: dict, metrics: dict, tags: dict) -> None:
    """Params, metrics (step 0) and tags in batches; what `logged` already holds is skipped, so
    that an update adds no metric history."""
    # pylint: disable=import-outside-toplevel
    from mlflow.entities import Metric, Param, RunTag

    if logged is not None:
        params = {k: v for k, v in params.items() if logged.params.get(k) != v}
        metrics = {k: v for k, v in metrics.items() if logged.metrics.get(k) != v}
        tags = {k: v for k, v in tags.items() if logged.tags.get(k) != v}
    now = int(time.time() * 1000)
    mlflow_client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )


def log_model(uri: str, run_id: str, bundle: artifact.Bundle, train: str) -> str:
    """Log the bundle's fitted pipeline (behind `PredictInputs`) as an MLflow scikit-learn
    model in `run_id`; its model URI."""
    import skops.io  # pylint: disable=import-outside-toplevel

    schema = bundle.model.schema
    fitted = tracking.served_model(bundle.model.pipeline, schema)
    example = files.read_parquet(train)[schema.features].head(EXAMPLE_ROWS)
    with fluent_uri(uri) as mlflow, mlflow.start_run(run_id=run_id):
        model_info = mlflow.sklearn.log_model(
            fitted,
            name=MODEL_ARTIFACT,
            signature=tracking.model_signature(schema),
            input_example=example,
            pyfunc_predict_fn="predict_proba",
            pip_requirements=model_requirements(),
            code_paths=[str(Path(kaizen.__file__).parent)],
            serialization_format="skops",
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(fitted)),
        )
    return model_info.model_uri


def register_version(mlflow_client, name: str, run_id: str, model_uri: str) -> str:
    """The version of registered model `name` made from this run (created once); `challenger`
    moves to it."""
    versions = mlflow_client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if versions:
        version = str(versions[0].version)
    else:
        with fluent_uri(mlflow_client.tracking_uri) as mlflow:
            version = str(mlflow.register_model(model_uri, name).version)
    mlflow_client.set_registered_model_alias(name, CHALLENGER, version)
    return version


def mirror_experiments(mlflow_client, experiment: str, parent: str, stages: dict) -> int:
    """Every finished `dvc exp show` experiment as a run nested under `parent`; their count."""
    _, rows = exp_table()
    count = 0
    for row in rows:
        if row.state not in experiments.FINISHED:
            continue
        tags = {"mlflow.parentRunId": parent, "kaizen.experiment_name": row.name}
        run_id, logged = upsert_run(
            mlflow_client, experiment, tracking.EXPERIMENT, row.rev, name=row.name, tags=tags
        )
        params = {tracking.key(k): tracking.param_value(v) for k, v in row.params.items()}
        metrics = tracking.experiment_metrics(row.metrics, stages)
        tags = {"kaizen.state": row.state, **tags}
        record(mlflow_client, run_id, logged, params=params, metrics=metrics, tags=tags)
        mlflow_client.set_terminated(run_id, "FINISHED" if row.state == "success" else "FAILED")
        count += 1
    return count


# --- the CLI subcommands --------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction) -> None:
    """Add `mlflow log` and `mlflow promote`."""
    group = commands.add_parser("mlflow", help="mirror runs to MLflow, an optional extra")
    # Each leaf names itself in `command`, so that errors read `kaizen mlflow log: error: …`.
    sub = group.add_subparsers(dest="mlflow_command", required=True, metavar="command")
    cmd = sub.add_parser("log", help="log the workspace's pipeline run (params, metrics, model)")
    _uri_option(cmd)
    cmd.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="MLflow experiment name")
    cmd.add_argument("--bundle", help="the model's bundle (KAIZEN_BUNDLE, default models/bundle)")
    cmd.add_argument("--register", metavar="NAME", help=f"register the model; alias {CHALLENGER}")
    cmd.add_argument(
        "--experiments", action="store_true", help="also mirror `dvc exp show` as nested runs"
    )
    cmd.set_defaults(handler=log, command="mlflow log")
    cmd = sub.add_parser("promote", help=f"move alias {CHAMPION} to a registered model version")
    _uri_option(cmd)
    cmd.add_argument("--name", default=DEFAULT_NAME, help="registered model name")
    cmd.add_argument("--version", default=None, help=f"default: the {CHALLENGER} version")
    cmd.add_argument(
        "--if-configured",
        action="store_true",
        help="do nothing when MLflow is not installed, no tracking store is set or the model "
        "is not registered (`make promote`)",
    )
    cmd.set_defaults(handler=promote, command="mlflow promote")


def _uri_option(cmd: argparse.ArgumentParser) -> None:
    """--tracking-uri."""
    cmd.add_argument(
        "--tracking-uri", default=None, help=f"default: $MLFLOW_TRACKING_URI, else {DEFAULT_URI}"
    )


@contextlib.contextmanager
def mlflow_errors(uri: str) -> Iterator[None]:
    """MLflow's exceptions as one-line errors naming the tracking URI."""
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel

    try:
        yield
    except MlflowException as exc:
        first = (str(exc.message).strip().splitlines() or ["error"])[0]
        raise KaizenError(f"MLflow at {uri}: {first}") from None


def log(args: argparse.Namespace) -> dict:
    """Log the workspace's pipeline run: params, metrics, plot data, the model, tags."""
    import_mlflow()
    stages = pipeline.metric_files()
    bundle = artifact.load(bundle_folder(args.bundle))  # every hash checked
    train = pipeline.stage_option("train", "train")
    commit = committed_run([pipeline.LOCK_FILE, args.params, *stages])
    info = bundle.info.model
    params = tracking.run_params(load_params(args.params).model_dump(mode="json"))
    numbers, texts = read_metrics(stages)
    lock_sha = files.file_sha256(pipeline.LOCK_FILE)
    uri = tracking_uri(args.tracking_uri)
    mlflow_client = client(uri)
    with mlflow_errors(uri):
        experiment = experiment_id(mlflow_client, args.experiment)
        run_id, logged = upsert_run(
            mlflow_client, experiment, tracking.COMMIT, commit, name=commit[:7], tags={}
        )
        tags = {**tracking.run_tags(commit, lock_sha, info, kaizen.__version__), **texts}
        record(mlflow_client, run_id, logged, params=params, metrics=numbers, tags=tags)
        for plot in pipeline.plot_files():
            mlflow_client.log_artifact(run_id, plot, str(Path(plot).parent))
        model_uri = logged.tags.get(tracking.MODEL_URI) if logged else None
        if model_uri is None:
            model_uri = log_model(uri, run_id, bundle, train)
            mlflow_client.set_tag(run_id, tracking.MODEL_URI, model_uri)
        result: dict[str, Any] = {
            "tracking_uri": uri,
            "experiment": args.experiment,
            "run_id": run_id,
            "commit": commit,
            "updated": logged is not None,
            "model_uri": model_uri,
        }
        if args.register:
            result["version"] = register_version(mlflow_client, args.register, run_id, model_uri)
        if args.experiments:
            result["experiments"] = mirror_experiments(mlflow_client, experiment, run_id, stages)
        mlflow_client.set_terminated(run_id, "FINISHED")
    return result


def missing_store(option: str | None) -> str | None:
    """Why there is no tracking store to read, or None: the default sqlite file is only made by
    `mlflow log`."""
    local = DEFAULT_URI.removeprefix("sqlite:///")
    if tracking_uri(option) == DEFAULT_URI and not Path(local).is_file():
        return f"no tracking store: MLFLOW_TRACKING_URI is not set and {local} does not exist"
    return None


def skip_reason(option: str | None) -> str | None:
    """Why `mlflow promote --if-configured` does nothing (no MLflow, no store), or None."""
    try:
        import_mlflow()
    except KaizenError:
        return "MLflow is not installed"
    return missing_store(option)


def promote(args: argparse.Namespace) -> dict | None:
    """Move alias `champion` to a version of the registered model (default: `challenger`'s)."""
    if args.if_configured and (reason := skip_reason(args.tracking_uri)):
        logger.info("skipped (%s)", reason)
        return None
    import_mlflow()
    if reason := missing_store(args.tracking_uri):
        raise KaizenError(f"{reason}: run `kaizen mlflow log --register NAME` first")
    uri = tracking_uri(args.tracking_uri)
    mlflow_client = client(uri)
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel

    with mlflow_errors(uri):
        try:
            model = mlflow_client.get_registered_model(args.name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            if args.if_configured:
                logger.info("skipped (no registered model %r)", args.name)
                return None
            raise KaizenError(
                f"no registered model {args.name!r} at {uri}: run "
                f"`kaizen mlflow log --register {args.name}` first"
            ) from None
        version = args.version or model.aliases.get(CHALLENGER)  # aliases map to int versions
        if version is None:
            raise KaizenError(
                f"registered model {args.name!r} has no {CHALLENGER} alias: pass --version"
            )
        mlflow_client.get_model_version(args.name, str(version))
        mlflow_client.set_registered_model_alias(args.name, CHAMPION, str(version))
    previous = model.aliases.get(CHAMPION)
    previous = None if previous is None else str(previous)
    logger.info("%s: %s -> version %s (was %s)", args.name, CHAMPION, version, previous or "unset")
    return {"name": args.name, CHAMPION: str(version), "previous": previous}
