"""floss.core.compare: the check behind determinism, SLURM-vs-local and refactor tests."""

import numpy as np
import xarray as xr

from floss.cli import main
from floss.core import io
from floss.core.compare import differences


def _tree(root, values, extra=None, timing=0.0):
    ds = xr.Dataset({"loss": (("epoch",), np.asarray(values, float))})
    ds["seconds"] = xr.DataArray([timing], dims="run", attrs={"floss_measured": "wall clock"})
    io.write(ds, root / "a" / "x.nc")
    if extra:
        io.write(ds, root / extra)
    return root


def test_equal_trees_have_no_difference_and_timings_are_skipped(tmp_path):
    a = _tree(tmp_path / "one", [1.0, np.nan, 3.0], timing=1.0)
    b = _tree(tmp_path / "two", [1.0, np.nan, 3.0], timing=2.0)
    assert differences(a, b) == []
    assert main(["compare", str(a), str(b)]) == 0


def test_every_kind_of_difference_is_named(tmp_path, capsys):
    a = _tree(tmp_path / "one", [1.0, 2.0, 3.0], extra="b/only_here.nc")
    b = _tree(tmp_path / "two", [1.0, 2.0, 3.5], extra="c/only_there.nc")
    found = differences(a, b)
    assert found == [
        f"c/only_there.nc: only in {b}",
        f"b/only_here.nc: only in {a}",
        "a/x.nc: loss: values differ",
    ]
    assert differences(a, b, subset=True) == [found[0], found[2]]
    io.write(xr.Dataset({"loss": (("step",), np.zeros(3))}), b / "a" / "x.nc")
    assert "a/x.nc: variables ['loss', 'seconds'] vs ['loss']" in differences(a, b)


def test_cli_exit_status(tmp_path, capsys):
    a = _tree(tmp_path / "one", [1.0])
    b = _tree(tmp_path / "two", [2.0])
    assert main(["compare", str(a), str(b)]) == 1
    assert "1 differences" in capsys.readouterr().out
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 2


def test_rows_derived_from_measurements_are_skipped(tmp_path):
    """A claims table lists the rows measured on timings; only those rows may differ."""
    for name, values in (("one", [1.0, 2.0, 3.0]), ("two", [1.0, 9.0, 3.0])):
        var = xr.DataArray(values, dims="row", attrs={"floss_measured_rows": "1"})
        io.write(xr.Dataset({"value": var}), tmp_path / name / "claims.nc")
    assert differences(tmp_path / "one", tmp_path / "two") == []
    io.write(xr.Dataset({"value": ("row", [0.0, 9.0, 3.0])}), tmp_path / "two" / "claims.nc")
    assert differences(tmp_path / "one", tmp_path / "two") == ["claims.nc: value: values differ"]
