"""dvc's Python API: Hydra expansion of sweep grids (a DVC-tracked output: tests/integration)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kaizen import KaizenError
from kaizen.io import dvc


def test_expand_is_dvc_cartesian_product_per_call():
    """Each call is a product; calls add up; float range() includes its end."""
    runs = dvc.expand(
        [
            ["train.model=logreg", "train.logreg.C=choice(0.1,1)", "train.scaling=standard,robust"],
            ["train.model=hgb"],
        ]
    )
    assert len(runs) == 5
    assert ["train.model=logreg", "train.logreg.C=1", "train.scaling=robust"] in runs
    floats = dvc.expand([["train.logreg.C=range(0.1,1.0,0.3)"]])
    assert [run[0] for run in floats][-1] == "train.logreg.C=1.0"
    assert len(dvc.expand([["train.seed=range(1,4)"]])) == 3


@pytest.mark.parametrize("bad", ["train.model", "train.logreg.C=choice(0.1,"])
def test_expand_rejects_bad_syntax(bad):
    """A malformed override fails before anything is queued."""
    with pytest.raises(KaizenError, match="-S"):
        dvc.expand([[bad]])


def test_queue_status_reads_dvc_queue_in_process(tmp_path, monkeypatch):
    """A real git + DVC repository with an empty queue: no task, no worker, as the CLI says."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    assert dvc.queue_status() == ({}, 0)


def test_a_torn_broker_reply_is_asked_again():
    """kombu's filesystem broker can read a reply file a worker is still writing (an empty
    file: JSONDecodeError): the question is asked again; a failure that lasts is raised."""
    answers = iter([json.JSONDecodeError("Expecting value", "", 0), ({}, {"w1": True})])

    def ask():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert dvc._asked(ask) == ({}, {"w1": True})  # pylint: disable=protected-access

    def torn():
        raise json.JSONDecodeError("Expecting value", "", 0)

    with pytest.raises(json.JSONDecodeError):
        dvc._asked(torn)  # pylint: disable=protected-access
