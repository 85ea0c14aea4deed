"""Runtime settings: the environment read once, typed; flags win; one-line errors naming the
variable; secrets never shown."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from kaizen import KaizenError, cli, runtime
from kaizen.commands import runner
from kaizen.events.engine import database_url
from tests.unit.helpers import assert_one_line_error

SECRETS = {
    "KAIZEN_FEEDBACK_TOKEN": "tok-3f9a1c-of-at-least-thirty-two-bytes",
    "KAIZEN_PII_SALT": "salt-77e2b0-of-at-least-thirty-two-bytes",
    "KAIZEN_ALERT_WEBHOOK": "https://hooks.example/services/T0/B0/hook-5d41c8",
    "KAIZEN_DB": "postgresql://kaizen:pw-9b2e61@db.example/kaizen",
}
SHOWN_NOWHERE = ("tok-3f9a1c", "salt-77e2b0", "hook-5d41c8", "pw-9b2e61")
SECTIONS = (runtime.Logging, runtime.Store, runtime.Serving, runtime.Monitor, runtime.Simulate)


@pytest.fixture(name="clean", autouse=True)
def fixture_clean(monkeypatch, tmp_path):
    """No KAIZEN_* or MLFLOW_TRACKING_URI from the caller's environment; run in tmp_path."""
    for section in (*SECTIONS, runtime.Mlflow):
        for field in section.model_fields:
            monkeypatch.delenv(section.variable(field), raising=False)
    monkeypatch.chdir(tmp_path)


def test_environment_and_flags(monkeypatch, tmp_path):
    """KAIZEN_* variables are read; flags given win; the PII list is comma-separated; the
    database is normalised to its SQLAlchemy URL."""
    monkeypatch.setenv("KAIZEN_MAX_BATCH", "50")
    monkeypatch.setenv("KAIZEN_DB", "env.db")
    monkeypatch.setenv("KAIZEN_PII_FIELDS", "Age, Home,")
    settings = runtime.Serving.load(db="flag.db", threshold=None)
    assert settings.max_batch == 50
    assert settings.db.get_secret_value() == f"sqlite:///{tmp_path / 'flag.db'}"
    assert settings.pii_fields == ("Age", "Home")
    assert settings.threshold is None
    assert runtime.Store.load().db.get_secret_value() == f"sqlite:///{tmp_path / 'env.db'}"
    url = runtime.Store.load(db="postgres://u@h/d").db.get_secret_value()
    assert url == database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


@pytest.mark.parametrize(
    ("section", "field", "values"),
    [
        (runtime.Serving, "threshold", (0.3, "0.7", None)),
        (runtime.Monitor, "threshold", (0.3, "0.7", None)),
        (runtime.Serving, "max_batch", (5, "50", 1000)),
        (runtime.Logging, "log_level", ("DEBUG", "warning", "INFO")),
        (runtime.Mlflow, "tracking_uri", ("sqlite:///flag.db", "http://127.0.0.1:5000", None)),
    ],
)
def test_precedence_flag_env_default(monkeypatch, section, field, values):
    """A flag given beats the variable, the variable beats the default; an empty variable and a
    flag left out (None) count as unset. `values`: (flag, variable, default)."""
    flag, env, default = values
    assert getattr(section.load(), field) == default
    monkeypatch.setenv(section.variable(field), "")
    assert getattr(section.load(), field) == default
    monkeypatch.setenv(section.variable(field), env)
    from_env = getattr(section.load(**{field: None}), field)
    assert from_env == (env.upper() if field == "log_level" else type(flag)(env))
    assert getattr(section.load(**{field: flag}), field) == flag


def test_flag_beats_environment_through_the_cli(monkeypatch, tmp_path, capsys):
    """`kaizen events init --db` opens the flag's store, not KAIZEN_DB's."""
    monkeypatch.setenv("KAIZEN_DB", str(tmp_path / "env.db"))
    assert cli.main(["events", "init", "--db", str(tmp_path / "flag.db")]) == 0
    assert json.loads(capsys.readouterr().out)["db"] == f"sqlite:///{tmp_path / 'flag.db'}"
    assert (tmp_path / "flag.db").is_file() and not (tmp_path / "env.db").exists()


@pytest.mark.parametrize(
    ("section", "name", "value", "message"),
    [
        (runtime.Serving, "KAIZEN_MAX_BATCH", "0", "Input should be greater than or equal to 1"),
        (runtime.Serving, "KAIZEN_REASONS", "many", "Input should be a valid integer"),
        (runtime.Serving, "KAIZEN_THRESHOLD", "1.5", "Input should be less than 1"),
        (runtime.Serving, "KAIZEN_THRESHOLD", "1", "Input should be less than 1"),
        (runtime.Monitor, "KAIZEN_THRESHOLD", "0", "Input should be greater than 0"),
        (runtime.Monitor, "KAIZEN_THRESHOLD", "half", "Input should be a valid number"),
        (runtime.Serving, "KAIZEN_PII_MODE", "blur", "Input should be 'hash' or 'drop'"),
        (
            runtime.Serving,
            "KAIZEN_MAX_BODY",
            "100",
            "Input should be greater than or equal to 1024",
        ),
        (runtime.Serving, "KAIZEN_CLOCK_SKEW", "-1", "Input should be greater than or equal to 0"),
        (runtime.Logging, "KAIZEN_LOG_LEVEL", "loud", "Input should be 'DEBUG', 'INFO',"),
        (runtime.Store, "KAIZEN_DB", "mysql://h/d", "'mysql': use a path, sqlite:///… or"),
        (runtime.Serving, "KAIZEN_FEEDBACK_TOKEN", "x" * 31, "must be at least 32 bytes"),
        (runtime.Serving, "KAIZEN_FEEDBACK_TOKEN", "", "is empty (unset it to disable)"),
        (runtime.Serving, "KAIZEN_FEEDBACK_TOKEN", "  ", "is empty (unset it to disable)"),
        (runtime.Simulate, "KAIZEN_FEEDBACK_TOKEN", "short", "must be at least 32 bytes"),
        (runtime.Serving, "KAIZEN_PII_SALT", "p", "must be at least 32 bytes"),
        (runtime.Serving, "KAIZEN_PII_SALT", "", "is empty (unset it to disable)"),
        (runtime.Monitor, "KAIZEN_ALERT_WEBHOOK", "ftp://h/x", "use an http:// or https:// URL"),
        (runtime.Monitor, "KAIZEN_ALERT_WEBHOOK", "hooks.example/T0", "use an http:// or"),
        (runtime.Monitor, "KAIZEN_ALERT_WEBHOOK", "https://", "use an http:// or https:// URL"),
        (runtime.Monitor, "KAIZEN_ALERT_WEBHOOK", "https://h:port/x", "not a valid URL"),
        (runtime.Monitor, "KAIZEN_ALERT_WEBHOOK", "https://h/a b", "holds a space or a control"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(monkeypatch, section, name, value, message):
    """An invalid or unknown value: KaizenError, one line, `<VARIABLE>: <why>`."""
    monkeypatch.setenv(name, value)
    with pytest.raises(KaizenError) as caught:
        section.load()
    text = str(caught.value)
    assert text.startswith(f"{name}: {message}") and "\n" not in text


def test_secret_lengths_count_bytes(monkeypatch):
    """32 bytes is enough, 31 is not; a multi-byte character counts its UTF-8 bytes; a flag is
    held to the same rule as the variable."""
    assert runtime.Serving.load(feedback_token="x" * 32, pii_salt="é" * 16).pii_salt is not None
    with pytest.raises(KaizenError, match="^KAIZEN_PII_SALT: must be at least 32 bytes"):
        runtime.Serving.load(pii_salt="é" * 15 + "x")
    with pytest.raises(KaizenError, match="^KAIZEN_FEEDBACK_TOKEN: is empty"):
        runtime.Serving.load(feedback_token="")
    monkeypatch.setenv("KAIZEN_ALERT_WEBHOOK", "https://hooks.example/services/T0/B0/x")
    assert runtime.Monitor.load().alert_webhook is not None


def test_a_bad_webhook_is_never_shown(monkeypatch):
    """The error names the variable and the problem, never the URL (its path is the secret)."""
    for url in (
        "hooks.example/hook-5d41c8",
        "https://h:99999999/hook-5d41c8",
        "gopher://x/hook-5d41c8",
    ):
        monkeypatch.setenv("KAIZEN_ALERT_WEBHOOK", url)
        with pytest.raises(KaizenError) as caught:
            runtime.Monitor.load()
        assert "hook-5d41c8" not in str(caught.value)
        assert str(caught.value).startswith("KAIZEN_ALERT_WEBHOOK: ")


def test_other_sections_ignore_a_bad_variable(monkeypatch):
    """A command loads its own section: a bad KAIZEN_MAX_BATCH stops serve, not the store."""
    monkeypatch.setenv("KAIZEN_MAX_BATCH", "0")
    runtime.Store.load()
    runtime.Logging.load()
    with pytest.raises(KaizenError, match="KAIZEN_MAX_BATCH"):
        runtime.Serving.load()


def test_unknown_setting_is_refused():
    """A flag that is no field (a caller's typo) is an error, not ignored."""
    with pytest.raises(KaizenError, match="^KAIZEN_TRESHOLD: Extra inputs are not permitted$"):
        runtime.Serving.load(treshold=0.5)


def test_threshold_shared_by_serve_and_monitor(monkeypatch):
    """KAIZEN_THRESHOLD has one type: serve and monitor accept and refuse the same values."""
    monkeypatch.setenv("KAIZEN_THRESHOLD", "0.42")
    assert runtime.Serving.load().threshold == runtime.Monitor.load().threshold == 0.42
    for value in ("0", "1", "-0.1", "nan"):
        monkeypatch.setenv("KAIZEN_THRESHOLD", value)
        errors = []
        for section in (runtime.Serving, runtime.Monitor):
            with pytest.raises(KaizenError) as caught:
                section.load()
            errors.append(str(caught.value))
        assert errors[0] == errors[1] and errors[0].startswith("KAIZEN_THRESHOLD: ")


def test_cli_bad_variable_is_the_one_line_error(monkeypatch, capsys, fitted, tmp_path):
    """Through the CLI: `kaizen <command>: error: <VARIABLE>: …`, exit 1, nothing on stdout;
    KAIZEN_THRESHOLD stops monitor (it was read raw before), KAIZEN_LOG_LEVEL any command."""
    monkeypatch.setenv("KAIZEN_THRESHOLD", "1.5")
    argv = ["--params", str(fitted.params), "monitor", "--last", "5", "--output", str(tmp_path)]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_line_error(err, "kaizen monitor: error: KAIZEN_THRESHOLD: Input should be less")
    monkeypatch.setenv("KAIZEN_LOG_LEVEL", "chatty")
    assert cli.main(["summary", "--metrics", "none.json"]) == 1
    assert_one_line_error(capsys.readouterr().err, "kaizen summary: error: KAIZEN_LOG_LEVEL: ")


def test_secrets_never_shown(monkeypatch, capsys):
    """Tokens, the salt, the webhook URL and the database password: masked in str and repr,
    absent from errors and from the debug log of the settings; the value is still there."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    serving, monitor = runtime.Serving.load(), runtime.Monitor.load()
    simulate = runtime.Simulate.load()
    shown = " ".join(f"{str(s)} {repr(s)}" for s in (serving, monitor, simulate))
    assert "**********" in shown
    assert (
        serving.feedback_token
        == simulate.feedback_token
        == SecretStr(SECRETS["KAIZEN_FEEDBACK_TOKEN"])
    )
    assert (
        monitor.db.get_secret_value() == "postgresql+psycopg://kaizen:pw-9b2e61@db.example/kaizen"
    )
    errors = []
    for name, bad in (("KAIZEN_MAX_BATCH", "0"), ("KAIZEN_DB", "mysql://kaizen:pw-9b2e61@h/d")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(KaizenError) as caught:
            runtime.Serving.load()
        errors.append(str(caught.value))
        monkeypatch.setenv(name, SECRETS.get(name, "1"))
    with cli.diagnostics("serve", "DEBUG"):
        runtime.Serving.load()
        runtime.Monitor.load()
    logged = capsys.readouterr().err
    assert logged.startswith("kaizen serve: serving settings: ") and "**********" in logged
    for secret in SHOWN_NOWHERE:
        for text in (shown, *errors, logged):
            assert secret not in text, (secret, text)


def test_bundle_is_a_setting_not_yet_used(monkeypatch):
    """KAIZEN_BUNDLE: the deployable model folder (issue 18), default models/bundle."""
    assert str(runtime.Serving.load().bundle) == "models/bundle"
    monkeypatch.setenv("KAIZEN_BUNDLE", "/srv/bundle")
    assert str(runtime.Monitor.load().bundle) == "/srv/bundle"


# --- runtime.py is the only environment reader ----------------------------------------------

SRC = Path(__file__).resolve().parents[2] / "src" / "kaizen"
ENVIRON = {"environ", "environb"}
GETENV = {"getenv", "getenvb"}


def _is_copy(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """`os.environ` copied whole for a child process: `dict(os.environ, …)`,
    `{**os.environ, …}`, `f(**os.environ)` or `os.environ.copy()`."""
    parent = parents.get(node)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name):
        if parent.func.id == "dict" and parent.args and parent.args[0] is node:
            return True
    if isinstance(parent, ast.keyword) and parent.arg is None:
        return True
    if isinstance(parent, ast.Dict) and any(
        key is None and value is node for key, value in zip(parent.keys, parent.values)
    ):
        return True
    return (
        isinstance(parent, ast.Attribute)
        and parent.attr == "copy"
        and isinstance(parents.get(parent), ast.Call)
        and parents[parent].func is parent
    )


def environment_reads(source: str) -> list[int]:
    """Lines of `source` that read (or change) the process environment: any use of
    `os.environ`/`os.environb` but a whole copy (`_is_copy`), `os.getenv`, `from os import
    environ/getenv`, pydantic-settings (it reads the environment); `os` under any alias."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    aliases = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "os"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if {a.name for a in node.names} & (ENVIRON | GETENV | {"*"}):
                lines.append(node.lineno)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(name.split(".")[0] == "pydantic_settings" for name in names):
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            if node.attr in GETENV or (node.attr in ENVIRON and not _is_copy(node, parents)):
                lines.append(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ("import os\nos.environ['KAIZEN_DB']", [2]),
        ("import os\nos.environ.get('KAIZEN_DB')", [2]),
        ("import os\nos.getenv('KAIZEN_DB', 'x')", [2]),
        ("import os\n'KAIZEN_DB' in os.environ", [2]),
        ("import os\nos.environ['X'] = '1'", [2]),
        ("import os\nfor name in os.environ: pass", [2]),
        ("import os as system\nsystem.environ.get('X')", [2]),
        ("from os import environ", [1]),
        ("from os import getenv as g", [1]),
        ("from pydantic_settings import BaseSettings", [1]),
        ("import os\nenv = dict(os.environ, DVC_NO_ANALYTICS='1')", []),
        ("import os\nrun(env={**os.environ, 'A': '1'})", []),
        ("import os\nenv = os.environ.copy()", []),
        ("import os\nos.path.join('a', 'b')", []),
    ],
)
def test_environment_reads_are_found(source, reads):
    """The checker flags every way of reading a variable, and only whole copies pass."""
    assert environment_reads(source) == reads


def test_only_runtime_reads_the_environment():
    """No module but runtime.py reads os.environ/os.getenv or builds pydantic settings; copying
    the whole environment for a child process (commands/runner.py) is not reading a setting."""
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "runtime.py" or path.parent != SRC
        if (lines := environment_reads(path.read_text(encoding="utf-8")))
    }
    assert not found, f"read the environment through kaizen.runtime: {found}"
    copier = (SRC / "commands" / "runner.py").read_text(encoding="utf-8")
    assert "dict(os.environ" in copier  # the allowed copy is still seen (the rule is not vacuous)
    assert environment_reads((SRC / "runtime.py").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "case",
    [
        ("x86_64", "fpu sse2 avx fma avx2 avx512f", None, runtime.BLAS_CORETYPE),
        ("x86_64", "fpu sse2 avx", None, None),  # no AVX2: OpenBLAS chooses
        ("x86_64", "fpu sse2 avx fma avx2", "Zen", "Zen"),  # the user's choice wins
        ("aarch64", "fp asimd", None, None),
    ],
)
def test_blas_defaults_same_kernels_on_every_avx2_machine(tmp_path, monkeypatch, case):
    """x86-64 with AVX2 and FMA gets one OpenBLAS kernel set (dvc.lock must not depend on the
    CPU); other CPUs and a user's OPENBLAS_CORETYPE are left alone."""
    machine, flags, preset, expected = case
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\n", "ascii")
    monkeypatch.setattr(runtime.platform, "machine", lambda: machine)
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    if preset:
        monkeypatch.setenv("OPENBLAS_CORETYPE", preset)
    runtime.blas_defaults(str(cpuinfo))
    assert os.environ.get("OPENBLAS_CORETYPE") == expected
    assert os.environ["OPENBLAS_NUM_THREADS"] == runtime.BLAS_THREADS
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    runtime.blas_defaults(str(tmp_path / "absent"))  # not Linux: nothing set
    assert "OPENBLAS_CORETYPE" not in os.environ
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    runtime.blas_defaults(str(cpuinfo))
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"  # the user's threads win too


KERNELS = """
import sys
from kaizen import cli, runtime
assert "numpy" not in sys.modules, "the CLI loaded numpy before choosing the BLAS kernels"
runtime.blas_defaults()
import scipy.linalg, threadpoolctl
blas = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
print(sorted({i["architecture"] for i in blas}), sorted({i["num_threads"] for i in blas}))
"""


def test_kaizen_processes_load_the_same_blas_kernels():
    """In a process started like `kaizen`, numpy's and SciPy's OpenBLAS both run the pinned
    kernels (the floats a stage computes do not depend on which x86-64 CPU runs it), one
    thread each."""
    if not runtime.avx2_fma():
        pytest.skip("this CPU lacks AVX2/FMA: OpenBLAS keeps its own choice")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    done = subprocess.run(
        [sys.executable, "-c", KERNELS], capture_output=True, text=True, check=True, env=environment
    )
    assert done.stdout.strip() == f"['{runtime.BLAS_CORETYPE}'] [1]"


@pytest.mark.parametrize(
    "cores, jobs, expected", [(2, 2, "1"), (2, 1, "2"), (8, 3, "2"), (2, 5, "1")]
)
def test_worker_threads_share_the_cores(monkeypatch, cores, jobs, expected):
    """Queue workers get OpenMP threads = cores // jobs, at least one; a user's
    OMP_NUM_THREADS is left alone (nothing added)."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert runtime.worker_threads(jobs) == {"OMP_NUM_THREADS": expected}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert not runtime.worker_threads(jobs)


def test_worker_threads_reach_the_child(monkeypatch):
    """`runner.dvc(..., env=)` adds the variables to the child's environment (ours kept)."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("KAIZEN_TEST_KEPT", "yes")
    done = runner.execute(
        sys.executable,
        "-c",
        "import os; print(os.environ['OMP_NUM_THREADS'], os.environ['KAIZEN_TEST_KEPT'])",
        env=runtime.worker_threads(2),
    )
    cores = len(os.sched_getaffinity(0))
    assert done.stdout.split() == [str(max(1, cores // 2)), "yes"]
