"""data add: register a raw data snapshot for the pipeline.

The file (a CSV, or a CSV/Parquet `kaizen events export` of labelled production events) is
validated with the checks of the `ingest` stage first, so that a bad file stops with the same
one-line error before anything is written. Then it is copied under `data/raw/` (Parquet is
written as CSV, the format `ingest` reads), tracked by DVC (`dvc add`: a small `.dvc` file goes
to git, the data to the DVC cache and remote), and `data.*` in `params.yaml` is updated in a
round trip that keeps its comments. Any failure restores the previous snapshot, `.dvc` file,
`.gitignore` and `params.yaml`.
"""

from __future__ import annotations

import argparse
import io
import logging
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from kaizen import KaizenError
from kaizen.io import files
from kaizen.io.params import read_params_text
from kaizen.commands import runner
from kaizen.config import parse_params
from kaizen.splits import RowSplit, Split, flow, split_from_current_start
from kaizen.io.tables import PARQUET, parse_raw, read_snapshot
from kaizen.pipeline.data import ingest

log = logging.getLogger(__name__)

SNAPSHOTS = Path("data/raw")  # where snapshots land (beside the embedded data and its README)
OPTIONS = {  # data.split field -> the option that sets it
    "start": "--split-row",
    "current": "--split-share",
    "column": "--split-date",
    "format": "--date-format",
    "current_from": "--current-from",
}


def register(commands: argparse._SubParsersAction) -> None:
    """Add `data add`."""
    group = commands.add_parser("data", help="data snapshots")
    actions = group.add_subparsers(dest="action", required=True, metavar="action")
    add = actions.add_parser(
        "add",
        help="register a CSV/Parquet snapshot: validate, copy under data/raw/, dvc add, "
        "update data.* in params.yaml",
    )
    add.add_argument("path", help="CSV, or a CSV/Parquet `kaizen events export` file")
    add.add_argument("--target", required=True, help="target column")
    add.add_argument("--positive", required=True, help="target value that means default")
    add.add_argument("--separator", help="CSV column separator (default: data.separator)")
    add.add_argument("--name", help="file name under data/raw/ (default: the input's name)")
    add.add_argument(
        "--drop", action="append", default=[], metavar="COLUMN", help="not a feature (repeat)"
    )
    split = add.add_mutually_exclusive_group()
    split.add_argument("--split-row", type=int, metavar="N", help="current part from data row N")
    split.add_argument("--split-share", type=float, metavar="SHARE", help="last SHARE of rows")
    split.add_argument("--split-date", metavar="COLUMN", help="split by this date column")
    split.add_argument("--no-split", action="store_true", help="no current part")
    add.add_argument("--date-format", help="strptime format of --split-date (default: ISO 8601)")
    add.add_argument("--current-from", metavar="DATE", help="first date of the current part")
    add.set_defaults(handler=add_snapshot, command="data add")


def split_option(args: argparse.Namespace, current: dict) -> dict:
    """The `data.split` the options ask for; without one, the current split, unless it is a
    row split (row numbers fit one file only: a new file needs its split said)."""
    if args.split_date is None and (args.date_format or args.current_from):
        raise KaizenError("--date-format and --current-from go with --split-date COLUMN")
    if args.split_row is not None:
        raw: dict = {"by": "row", "start": args.split_row}
    elif args.split_share is not None:
        raw = {"by": "share", "current": args.split_share}
    elif args.split_date is not None:
        if not args.current_from:
            raise KaizenError("--split-date needs --current-from DATE (first current date)")
        raw = {"by": "date", "column": args.split_date, "current_from": args.current_from}
        if args.date_format:
            raw["format"] = args.date_format
    elif args.no_split:
        raw = {"by": "none"}
    elif isinstance(current.get("split"), dict):
        raw = dict(current["split"])
    elif "current_start" in current:
        raw = split_from_current_start(current["current_start"])
    else:
        raw = {"by": "none"}
    try:
        split = TypeAdapter(Split).validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = next((str(p) for p in reversed(first["loc"]) if str(p) in OPTIONS), "")
        raise KaizenError(f"{OPTIONS.get(field, 'data.split')}: {first['msg']}") from None
    given = any(
        (args.split_row is not None, args.split_share is not None, args.split_date, args.no_split)
    )
    if isinstance(split, RowSplit) and not given:
        raise KaizenError(
            f"{args.path}: say how to split this snapshot (--split-row N, --split-share SHARE, "
            "--split-date COLUMN --current-from DATE or --no-split): the row split "
            f"{flow(raw)} of params.yaml was set for another file"
        )
    return split.model_dump(exclude_none=True)


def typed_value(text: str) -> str | int:
    """`1` as the number 1 (a 0/1 target), anything else as text."""
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else text


def destination(path: Path, name: str | None) -> Path:
    """Where the snapshot goes: data/raw/<name>, a CSV name for a Parquet input."""
    name = name or (path.stem + ".csv" if path.suffix.lower() in PARQUET else path.name)
    if not name or Path(name).name != name or name.startswith("."):
        raise KaizenError(f"--name: {name!r} is not a plain file name")
    return SNAPSHOTS / name


def edit_params(text: str, data: dict[str, Any], drop: tuple[str, ...] = ()) -> str:
    """`params.yaml` text with `data.<key>` set to each value (and `drop` keys removed),
    everything else, comments included, as it was."""
    parser = round_trip()
    document = parser.load(text)
    section = document["data"]
    for key in drop:
        if key in section:
            position = list(section).index(key)
            comment = section.ca.items.pop(key, [None, None, None, None])
            del section[key]
            section.insert(position, "split", None)
            note = f"replaces {key} (migrated by kaizen data add)"
            if comment[2] is None:
                section.yaml_add_eol_comment(note, "split")
            else:  # its comment, blank lines after it included
                blank = comment[2].value[len(comment[2].value.rstrip("\n")) + 1 :]
                comment[2].value = f"# {note}\n{blank}"
                section.ca.items["split"] = comment
    for key, value in data.items():
        if key in section and section[key] == value:
            continue  # unchanged: keep its quotes and style
        if isinstance(value, dict):
            value = CommentedMap(value)
            value.fa.set_flow_style()
        section[key] = value
    out = io.StringIO()
    parser.dump(document, out)
    return out.getvalue()


def round_trip() -> YAML:
    """A ruamel parser that writes params.yaml back in its own style (nulls as `null`)."""
    parser = YAML()
    parser.preserve_quotes = True
    parser.width = 4096
    parser.indent(mapping=2, sequence=4, offset=2)
    parser.representer.add_representer(
        type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return parser


def check_repository(target: Path) -> None:
    """A DVC repository root, and a destination that git does not track (DVC will)."""
    if not Path(".dvc").is_dir():
        raise KaizenError("not at the root of a DVC repository (no .dvc folder here)")
    tracked = runner.git("ls-files", "--error-unmatch", str(target), check=False)
    if tracked.returncode == 0:
        raise KaizenError(
            f"{target}: tracked by git, so DVC cannot track it: choose another --name, or "
            f"`git rm --cached {target}` first"
        )


def add_snapshot(args: argparse.Namespace) -> dict:
    """Validate, copy, `dvc add`, update params.yaml; restore everything on failure."""
    params_path = Path(args.params)
    params_text, current = read_params_text(params_path)
    parse_params(current, params_path)
    source = Path(args.path)
    target = destination(source, args.name)
    section = dict(current["data"])
    content, separator = read_snapshot(source, args.separator or section.get("separator", ","))
    split = split_option(args, section)
    updates = {
        "path": target.as_posix(),
        "target": args.target,
        "positive": typed_value(args.positive),
        "separator": separator,
        "columns": {**section.get("columns", {}), **{name: "drop" for name in args.drop}},
        "split": split,
    }
    drop = ("current_start",) if "current_start" in section else ()
    new = {**current, "data": {k: v for k, v in {**section, **updates}.items() if k not in drop}}
    config = parse_params(new, params_path).data
    parts = ingest(parse_raw(content, source, separator), config, str(source))
    for warning in parts.warnings:
        log.warning("warning: %s", warning)
    check_repository(target)
    text = edit_params(params_text, updates, drop)
    store(content, target, text, params_path)
    dvc_file = f"{target}.dvc"
    step = f"dvc repro && git add {dvc_file} {target.parent}/.gitignore {params_path} dvc.lock"
    facts = parts.facts
    log.info(
        "%s registered (%s rows: %s reference, %s current); next: %s && git commit && dvc push",
        target,
        f"{facts['rows']:,}",
        f"{facts['reference']['rows']:,}",
        f"{facts['current']['rows']:,}",
        step,
    )
    return {
        "snapshot": target.as_posix(),
        "dvc_file": dvc_file,
        "rows": facts["rows"],
        "reference": facts["reference"]["rows"],
        "current": facts["current"]["rows"],
        "split": split,
        "next": f"{step} && git commit -m 'data: {target.name}' && dvc push",
    }


def store(content: bytes, target: Path, params_text: str, params_path: Path) -> None:
    """Put the snapshot in place, `dvc add` it and write params.yaml: all of it, or none."""
    guarded = [target, Path(f"{target}.dvc"), target.parent / ".gitignore", params_path]
    with ExitStack() as undo:
        for path in guarded:
            undo.enter_context(files.restored_on_error(path))
        if files.read_bytes(target) != content:
            files.write_bytes(content, target)
        runner.dvc("add", str(target))
        files.write_text(params_text, params_path)
