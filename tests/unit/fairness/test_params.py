"""fairness params: the issue's form validates; mistakes are one-line errors naming the key."""

import pytest

from kaizen import KaizenError
from kaizen.config import parse_params
from tests.unit.helpers import params_dict


def parsed(fairness: dict, train: dict | None = None):
    """Params with this fairness section."""
    return parse_params(params_dict({"fairness": fairness, "train": train or {}}))


def test_issue_form_and_exclusion():
    """Declared columns land in train.excluded unless exclude_protected is false."""
    declared = {
        "min_group": 30,
        "protected": [{"column": "Income", "bands": [100, 200]}, {"column": "Home"}],
    }
    assert parsed(declared).train.excluded == ("Income", "Home")
    assert parsed(declared, {"exclude_protected": False}).train.excluded == ()
    assert parsed(declared, {"excluded": ["Debt"]}).train.excluded == ("Debt", "Income", "Home")


@pytest.mark.parametrize(
    "fairness, message",
    [
        (
            {"protected": [{"column": "A"}, {"column": "A"}]},
            "fairness.protected: Value error, a column is declared twice",
        ),
        ({"protected": [{"column": "A", "bands": [62, 25]}]}, "fairness.protected.0.bands"),
        ({"protected": [{"column": "A", "bands": []}]}, "fairness.protected.0.bands"),
        ({"protected": [{"colum": "A"}]}, "fairness.protected.0.column: Field required"),
        ({"min_group": 0}, "fairness.min_group"),
        ({"air_band": 1.2}, "fairness.air_band"),
    ],
)
def test_bad_fairness_is_one_line(fairness, message):
    """Each mistake names its key on one line."""
    with pytest.raises(KaizenError) as caught:
        parsed(fairness)
    assert message in str(caught.value) and "\n" not in str(caught.value)
