"""The PR report's fairness section: base -> head per group, an AIR leaving the band flagged."""

from kaizen.reporting import fairness as F


def report(air: float, screen: str, in_model=()) -> dict:
    """A one-group fairness report.json."""
    row = {"n": 120, "judged": True, "approval_rate": 0.5 * air, "air": air, "air_screen": screen}
    reference = {
        "n": 500,
        "judged": True,
        "approval_rate": 0.5,
        "air": 1.0,
        "air_screen": "reference",
    }
    parts = {"current": {"groups": {"<25": row, "25 to <62": reference}}}
    return {
        "air_band": 0.8,
        "screen": "a screen, not a legal verdict",
        "protected_in_model": list(in_model),
        "attributes": {"Age": {"parts": parts}},
    }


def test_air_leaving_the_band_is_flagged():
    """0.85 -> 0.7: named at the top and in the table; the reverse says back in the band."""
    text = F.section(report(0.85, "within band"), report(0.7, "below band"))
    assert "leaves the 0.8 band: Age <25 (current)" in text
    assert (
        "| Age | current | <25 | 120 | 0.425 → 0.350 | 0.850 → 0.700 | ⚠️ leaves the band |" in text
    )
    back = F.section(report(0.7, "below band"), report(0.85, "within band"))
    assert "| back in the band |" in back and "⚠️" not in back


def test_protected_in_model_and_no_base():
    """A protected attribute the model uses is flagged; no base report is said so."""
    text = F.section(None, report(0.9, "within band", in_model=["Age"]))
    assert "Protected attributes used by the model: Age" in text
    assert "No fairness report on the base" in text
    assert F.section(None, None) == ""


def test_no_base_figure_is_below_not_leaving():
    """Without a base report a group under the band is 'below', never 'leaves'."""
    text = F.section(None, report(0.7, "below band"))
    assert "No fairness report on the base" in text and "leaves" not in text
    assert "Below the 0.8 band (no base figure): Age <25 (current)" in text
    assert "| 0.700 | ⚠️ below band |" in text.replace("- → ", "")
