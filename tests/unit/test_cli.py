"""The CLI: every core command end to end, and the bad-input contract of issue 2.

A user error exits 1 with exactly one stderr line naming the file and the column or key, no
traceback, no new output file, and a pre-existing output file left as it was.
"""

import argparse
import importlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kaizen import __version__, cli
from tests.unit.helpers import (
    RAW_CASES,
    assert_one_line_error,
    credit_frame,
    write_csv,
    write_params,
    write_raw_case,
)

OLD = '{"old": true}\n'
INGEST_OUTPUTS = ("reference.parquet", "current.parquet", "schema.json", "ingest.json")


def ingest_argv(folder: Path, source: Path) -> list[str]:
    """`kaizen ingest` with every output in `folder`."""
    return [
        "--params",
        str(folder / "params.yaml"),
        "ingest",
        "--input",
        str(source),
        "--reference",
        str(folder / "reference.parquet"),
        "--current",
        str(folder / "current.parquet"),
        "--schema",
        str(folder / "schema.json"),
        "--metrics",
        str(folder / "ingest.json"),
    ]


def assert_contract(capsys, argv: list[str], outputs: list[Path], *fragments: str) -> None:
    """Exit 1, one stderr line with the fragments, no new output, pre-existing output intact.

    The first output is created beforehand with known content; the others must not appear.
    """
    outputs[0].parent.mkdir(parents=True, exist_ok=True)
    outputs[0].write_text(OLD, encoding="utf-8")
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(captured.err, *fragments)
    assert outputs[0].read_text(encoding="utf-8") == OLD
    for path in outputs[1:]:
        assert not path.exists(), path
    leftovers = [p.name for p in outputs[0].parent.iterdir() if p.name.startswith(".")]
    assert not leftovers


@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_ingest_bad_input_contract(tmp_path, capsys, case):
    """Each malformed raw file fails ingest cleanly, naming the file and the problem."""
    content, fragments = RAW_CASES[case]
    source = write_raw_case(tmp_path / "data.csv", content)
    write_params(tmp_path / "params.yaml")
    outputs = [tmp_path / name for name in reversed(INGEST_OUTPUTS)]
    assert_contract(capsys, ingest_argv(tmp_path, source), outputs, str(source), *fragments)


def test_ingest_missing_file_contract(tmp_path, capsys):
    """A raw file that does not exist is named."""
    write_params(tmp_path / "params.yaml")
    source = tmp_path / "nope.csv"
    outputs = [tmp_path / name for name in INGEST_OUTPUTS]
    assert_contract(capsys, ingest_argv(tmp_path, source), outputs, f"{source}: file not found")


PARAMS_CASES = {
    "unknown_key": ("train:\n  modle: rf\n", ["train.modle: unknown key (typo?)"]),
    "wrong_type": (
        "train:\n  logreg:\n    C: abc\n",
        ["train.logreg.C: Input should be a valid number"],
    ),
    "invalid_yaml": ("train:\n  model: [rf\n  seed: 1\n", ["invalid YAML at line"]),
    "not_a_mapping": ("- data\n- train\n", ["expected a mapping of sections"]),
}


@pytest.mark.parametrize("case", sorted(PARAMS_CASES))
def test_params_contract(tmp_path, capsys, case):
    """A typo, a wrong type or broken YAML in params.yaml stops before any work."""
    text, fragments = PARAMS_CASES[case]
    source = write_csv(tmp_path / "data.csv")
    params = tmp_path / "params.yaml"
    if case in {"invalid_yaml", "not_a_mapping"}:
        params.write_text(text, encoding="utf-8")
    else:
        write_params(params)
        params.write_text(params.read_text(encoding="utf-8") + text, encoding="utf-8")
    outputs = [tmp_path / name for name in INGEST_OUTPUTS]
    assert_contract(capsys, ingest_argv(tmp_path, source), outputs, str(params), *fragments)


def test_params_missing_file_contract(tmp_path, capsys):
    """A missing params file is named."""
    source = write_csv(tmp_path / "data.csv")
    outputs = [tmp_path / name for name in INGEST_OUTPUTS]
    argv = ingest_argv(tmp_path, source)
    assert_contract(capsys, argv, outputs, f"{tmp_path / 'params.yaml'}: file not found")


def predict_argv(bundled: Path, source: Path, output: Path) -> list[str]:
    """`kaizen predict` on the shared bundle."""
    return [
        "predict",
        "--bundle",
        str(bundled),
        "--input",
        str(source),
        "--output",
        str(output),
    ]


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ("drop", ["missing column(s) the model needs: Debt"]),
        ("text", ["column 'Debt' holds text 'lots' at data row 4", "expects a number"]),
    ],
)
def test_predict_bad_input_contract(bundled, tmp_path, capsys, change, fragments):
    """New applications lacking a model column or with text in a numeric one."""
    frame = credit_frame(6, seed=3).drop(columns="Status").astype(str)
    if change == "drop":
        frame = frame.drop(columns="Debt")
    else:
        frame.loc[3, "Debt"] = "lots"
    source = write_csv(tmp_path / "new.csv", frame)
    output = tmp_path / "out" / "scored.csv"
    argv = predict_argv(bundled, source, output)
    assert_contract(capsys, argv, [output], str(source), *fragments)


def test_predict_cli_success(bundled, tmp_path, capsys):
    """predict prints rows, engine and output as JSON and writes the scored CSV."""
    source = write_csv(tmp_path / "new.csv", credit_frame(7, seed=3).drop(columns="Status"))
    output = tmp_path / "scored.csv"
    argv = predict_argv(bundled, source, output) + ["--threshold", "0.4"]
    assert cli.main(argv) == 0
    summary = {"rows": 7, "engine": "pandas", "output": str(output)}
    assert json.loads(capsys.readouterr().out) == summary
    scored = pd.read_csv(output)
    assert set(scored["decision"]) <= {"accept", "refuse"} and len(scored) == 7


def test_pipeline_commands(tmp_path, capsys):
    """ingest -> prepare -> train -> evaluate -> summary through `kaizen.cli.main`."""
    source = write_csv(tmp_path / "data.csv")
    params = write_params(tmp_path / "params.yaml")
    t = str(tmp_path)
    assert cli.main(ingest_argv(tmp_path, source)) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["rows"] == 60
    common = ["--params", str(params)]
    argv = ["prepare", "--reference", f"{t}/reference.parquet", "--schema", f"{t}/schema.json"]
    assert (
        cli.main(common + argv + ["--train", f"{t}/train.parquet", "--test", f"{t}/test.parquet"])
        == 0
    )
    split = json.loads(capsys.readouterr().out)
    assert split["train"] + split["test"] == facts["reference"]["rows"]
    argv = ["train", "--train", f"{t}/train.parquet", "--schema", f"{t}/schema.json"]
    argv += ["--model", f"{t}/m.joblib", "--info", f"{t}/m.json", "--metrics", f"{t}/train.json"]
    assert cli.main(common + argv) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == split["train"]
    argv = ["evaluate", "--model", f"{t}/m.joblib", "--info", f"{t}/m.json"]
    argv += ["--schema", f"{t}/schema.json", "--train", f"{t}/train.parquet"]
    argv += ["--test", f"{t}/test.parquet", "--current", f"{t}/current.parquet"]
    argv += ["--output", f"{t}/eval", "--scores", f"{t}/scores.parquet"]
    assert cli.main(common + argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["test"]["rows"] == split["test"]
    assert cli.main(["summary", "--metrics", f"{t}/eval/metrics.json"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["metric", "cv", "test", "current"]
    assert "decision threshold" in out
    # evaluate.bootstrap: 0 passes validation and leaves no interval: summary still prints.
    write_params(tmp_path / "params.yaml", {"evaluate": {"bootstrap": 0}})
    assert cli.main(common + argv) == 0
    assert json.loads(capsys.readouterr().out)["test"]["roc_auc_low"] is None
    assert cli.main(["summary", "--metrics", f"{t}/eval/metrics.json"]) == 0
    assert "[95 % CI n/a-n/a]" in capsys.readouterr().out


def test_stage_input_errors(fitted, tmp_path, capsys):
    """Missing or broken stage inputs are one-line errors naming the file."""
    params = ["--params", str(fitted.params)]
    bad_schema = tmp_path / "schema.json"
    bad_schema.write_text("{not json", encoding="utf-8")
    argv = ["prepare", "--reference", str(fitted.reference), "--schema", str(bad_schema)]
    argv += ["--train", str(tmp_path / "tr.parquet"), "--test", str(tmp_path / "te.parquet")]
    outputs = [tmp_path / "te.parquet", tmp_path / "tr.parquet"]
    assert_contract(capsys, params + argv, outputs, str(bad_schema), "invalid JSON")
    argv = ["train", "--train", str(tmp_path / "nope.parquet"), "--schema", str(fitted.schema)]
    argv += ["--model", str(tmp_path / "m.joblib"), "--info", str(tmp_path / "m.json")]
    argv += ["--metrics", str(tmp_path / "t.json")]
    outputs = [tmp_path / "t.json", tmp_path / "m.joblib", tmp_path / "m.json"]
    assert_contract(capsys, params + argv, outputs, "nope.parquet: file not found")
    argv = ["evaluate", "--model", str(tmp_path / "x.joblib"), "--info", str(fitted.info)]
    argv += ["--schema", str(fitted.schema), "--train", str(fitted.train)]
    argv += ["--test", str(fitted.test), "--current", str(fitted.current)]
    argv += ["--output", str(tmp_path / "eval"), "--scores", str(tmp_path / "s.parquet")]
    outputs = [tmp_path / "eval" / "metrics.json", tmp_path / "s.parquet"]
    assert_contract(capsys, params + argv, outputs, "x.joblib: model file not found")
    argv = ["summary", "--metrics", str(tmp_path / "none.json")]
    assert cli.main(argv) == 1
    assert_one_line_error(capsys.readouterr().err, "none.json: file not found")


def test_version_and_usage(capsys):
    """--version prints the version; a missing command is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"kaizen {__version__}"
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    assert "usage: kaizen" in capsys.readouterr().err


def test_handlers_have_subcommands():
    """Every registered handler has a subcommand and vice versa."""

    # pylint: disable=protected-access
    def leaves(parser, prefix="", inherited=None):
        handler = parser.get_default("handler") or inherited  # a group may dispatch its actions
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions:
            yield prefix.strip(), handler
        for action in actions:
            for name, sub in action.choices.items():
                yield from leaves(sub, f"{prefix} {name}", handler)

    commands = dict(leaves(cli.parser()))
    assert {"ingest", "report", "data add", "events init", "mlflow log"} <= set(commands)
    for name, handler in commands.items():
        assert callable(handler), name


def test_python_dash_m(tmp_path):
    """`python -m kaizen` runs the same main and exits with its code."""
    argv = [sys.executable, "-m", "kaizen", "summary", "--metrics", "missing.json"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "missing.json: file not found")


def test_registry_names_what_each_module_registers():
    """MODULES lists exactly the commands each module registers (the lazy import relies on it)."""
    for name, words in cli.MODULES.items():
        commands = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(commands)
        assert tuple(commands.choices) == words, name


@pytest.mark.parametrize(
    "argv, command",
    [
        (["predict", "--input", "x"], "predict"),
        (["--params", "p.yaml", "summary"], "summary"),
        (["--params=p.yaml", "events", "init"], "events"),
        (["--help"], None),
        ([], None),
    ],
)
def test_command_of(argv, command):
    """The command word is found after global options and their values."""
    assert cli.command_of(argv) == command


def test_one_command_imports_its_module_only():
    """`kaizen predict` builds a parser with predict alone; without a command, with all."""
    # pylint: disable=protected-access
    action = cli.parser(["predict"])._subparsers._group_actions[0]
    assert list(action.choices) == ["predict"]
    action = cli.parser(["nonsense"])._subparsers._group_actions[0]
    assert len(action.choices) == sum(len(words) for words in cli.MODULES.values())


RUN = """
import atexit, sys, threading, time
from kaizen import cli
atexit.register(lambda: print("exit handler ran", flush=True))
if "--thread" in sys.argv:
    sys.argv.remove("--thread")
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
cli.run()
"""


@pytest.mark.parametrize("thread", [False, True])
def test_console_script_exits_with_the_code_after_exit_handlers_and_threads(tmp_path, thread):
    """`run` (the console script) skips only the interpreter's teardown: the command's code and
    output, the exit handlers, and a thread still running are all kept."""
    argv = ["predict", "--bundle", str(tmp_path / "none"), "--input", "in.csv"]
    argv += ["--output", str(tmp_path / "o.csv")] + (["--thread"] if thread else [])
    done = subprocess.run(
        [sys.executable, "-c", RUN, *argv], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    expected_error = f"{tmp_path / 'none'}: not a bundle (no bundle.json; run `dvc repro bundle`)"
    assert done.stderr == f"kaizen predict: error: {expected_error}\n"
    expected = ["exit handler ran"] + (["thread finished"] if thread else [])
    assert sorted(done.stdout.splitlines()) == sorted(expected)


def test_diagnostics_levels_verbose_and_environment(tmp_path, monkeypatch, capsys):
    """Diagnostics: INFO by default, KAIZEN_LOG_LEVEL, and --verbose (DEBUG) beats the variable;
    the settings are logged masked; an error shows at any level; nothing is left configured
    after the command."""
    argv = ["events", "init", "--db", str(tmp_path / "e.db")]
    monkeypatch.delenv("KAIZEN_LOG_LEVEL", raising=False)
    assert cli.main(argv) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["-v", *argv]) == 0
    err = capsys.readouterr().err
    assert "kaizen events: store settings: db=SecretStr('**********')\n" in err
    monkeypatch.setenv("KAIZEN_LOG_LEVEL", "error")
    assert cli.main(["--verbose", *argv]) == 0
    assert "store settings" in capsys.readouterr().err
    assert cli.main(["summary", "--metrics", str(tmp_path / "none.json")]) == 1
    assert_one_line_error(capsys.readouterr().err, "kaizen summary: error: ", "none.json")
    monkeypatch.setenv("KAIZEN_LOG_LEVEL", "debug")
    assert cli.main(argv) == 0
    assert "store settings" in capsys.readouterr().err
    logger = logging.getLogger("kaizen")
    assert not logger.handlers and logger.propagate and logger.level == logging.NOTSET


def test_warnings_reach_stderr_once_and_not_the_root_logger(tmp_path, capsys, caplog):
    """A stage warning is one `kaizen <command>: warning: …` line; a handler on the root logger
    (a library's logging set-up) does not print it a second time."""
    source = write_csv(tmp_path / "data.csv")
    write_params(tmp_path / "params.yaml", {"data": {"split": {"by": "row", "start": 55}}})
    with caplog.at_level(logging.DEBUG):
        assert cli.main(ingest_argv(tmp_path, source)) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"kaizen ingest: warning: {source}: data.split")
    assert not caplog.records


def test_stage_warning_in_the_process_stderr(tmp_path):
    """What `dvc repro` shows: the warning on the stage process's stderr, JSON on stdout;
    KAIZEN_LOG_LEVEL=ERROR hides it."""
    source = write_csv(tmp_path / "data.csv")
    write_params(tmp_path / "params.yaml", {"data": {"split": {"by": "row", "start": 55}}})
    argv = [sys.executable, "-m", "kaizen", *ingest_argv(tmp_path, source)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["rows"] == 60
    [line] = done.stderr.splitlines()
    assert line.startswith(f"kaizen ingest: warning: {source}: data.split {{by: row, start: 55}}")
    quiet = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "KAIZEN_LOG_LEVEL": "ERROR"},
    )
    assert quiet.stderr == "" and json.loads(quiet.stdout)["rows"] == 60


def test_help_lists_every_action_and_the_params_default(capsys):
    """`kaizen --help` names every action of every command group and the --params default."""
    # pylint: disable=protected-access
    root = cli.parser()
    groups = [a for a in root._actions if isinstance(a, argparse._SubParsersAction)][0]
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    nested = 0
    for name, sub in groups.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                nested += 1
                assert f"{name} " in text and f"({', '.join(action.choices)})" in text, name
    assert nested >= 3 and "check" in text  # events, data, mlflow; `events check` was missing
    assert "parameters file (default: params.yaml)" in text
