"""floss.core.claims: the verdict vocabulary, `not run` for a disabled figure, the table."""

import math

import numpy as np
import pytest
import xarray as xr

from floss.core import claims as C
from floss.core.errors import FlossError


def _mean_within(data, params):
    x = data["x"].values
    size_ok = abs(x.mean() - 1.0) <= params.get("tol", 0.1)
    return C.Measurement(
        float(x.mean()), float(x.std()), x.size, C.verdict(size_ok, x.mean() > 0), "mean of x"
    )


CLAIM = C.Claim(
    id="T.a",
    figure="T1",
    claim="x is about 1",
    quantity="mean x",
    published="1 +- 0.1",
    source="a test",
    criterion="|mean - 1| <= 0.1: reproduced; mean > 0: direction",
    measure=_mean_within,
)


def _data(values):
    return xr.Dataset({"x": ("network", np.asarray(values, float))})


@pytest.mark.parametrize(
    "values,verdict",
    [([0.95, 1.05], C.REPRODUCED), ([0.4, 0.6], C.DIRECTION), ([-1.0, -2.0], C.NOT_REPRODUCED)],
)
def test_measured_verdicts(values, verdict):
    (row,) = C.evaluate([CLAIM], {"T1": _data(values)}, {"T1": {}})
    assert row["verdict"] == verdict and row["n"] == 2
    assert row["value"] == pytest.approx(np.mean(values))


def test_disabled_figure_is_not_run_and_params_reach_measure():
    (row,) = C.evaluate([CLAIM], {}, {})
    assert row["verdict"] == C.NOT_RUN and math.isnan(row["value"]) and row["n"] == 0
    (row,) = C.evaluate([CLAIM], {"T1": _data([0.5])}, {"T1": {"tol": 0.6}})
    assert row["verdict"] == C.REPRODUCED


def test_direction_only_claims_never_reach_reproduced():
    assert C.verdict(True, True, direction_only=True) == C.DIRECTION
    assert C.verdict(True, False) == C.NOT_REPRODUCED  # a size match with the wrong sign


def test_unknown_verdict_and_missing_variable_are_refused():
    with pytest.raises(ValueError, match="not allowed"):
        C.Measurement(0.0, 0.0, 1, "almost")
    with pytest.raises(FlossError, match="claim T.a: figure T1 data lacks"):
        C.evaluate([CLAIM], {"T1": xr.Dataset()}, {})


def test_table_formats_agree():
    rows = C.evaluate([CLAIM], {"T1": _data([1.0, 1.1])}, {})
    rows += C.evaluate([CLAIM], {}, {})
    ds = C.to_dataset(rows, "test")
    assert list(ds["verdict"].values) == [C.REPRODUCED, C.NOT_RUN]
    assert all("units" in ds[v].attrs for v in ds.data_vars)
    text = C.to_markdown(rows, "test")
    assert text.startswith("Claims at test scale: 1 reproduced, 1 not run (of 2).")
    assert "| T.a | x is about 1 | 1 +- 0.1 | 1.05 ± 0.05 (n = 2) | **reproduced** |" in text
    lines = C.to_csv(rows).splitlines()
    assert lines[0].split(",")[:2] == ["id", "figure"] and len(lines) == 3
