"""Figure data assembly: summary numbers on hand-made inputs, and the files a figure writes."""

import numpy as np
import pytest
import xarray as xr

from floss.core import io
from floss.core.figures import render
from floss.flossing import figures
from floss.flossing.figures.lambda_control import first_epoch_within


def test_first_epoch_within():
    lam = np.array([[-2.0, -1.2, -1.05, -0.98, -1.3, -1.0], [-1.5, -1.0, -0.95, -1.02, -1.0, -1.0]])
    assert first_epoch_within(lam, -1.0, 0.1) == (3, 0.75)  # epochs 3, 4, 6 of 3..6
    assert first_epoch_within(lam, 5.0, 0.1) == (-1, 0.0)


def _spectra(values):
    return xr.Dataset({"lyapunov": (("network", "exponent"), np.asarray(values, float))})


def test_spectrum_k_summary_and_files(tmp_path):
    inputs = {
        "before": _spectra([[-0.3, -0.5, -0.9, -1.2], [-0.2, -0.6, -0.8, -1.1]]),
        "after_k2": _spectra([[0.01, -0.02, -0.7, -1.3], [-0.03, 0.0, -0.5, -1.0]]),
    }
    params = {"ks": [2], "scale": "test", "n_neurons": 4, "n_networks": 2}
    data = render(figures.FIGURES, "F2_spectrum_k", inputs, params, tmp_path / "F2")
    assert data.attrs["k2_max_abs_first_k"] == pytest.approx(0.03)
    assert data.attrs["k2_lambda_k_plus_1_mean"] == pytest.approx(-0.6)
    for ext in ("png", "pdf", "nc"):
        assert (tmp_path / f"F2.{ext}").stat().st_size > 0
    back = io.read(tmp_path / "F2.nc")
    np.testing.assert_array_equal(back["lyapunov"].values[1], inputs["after_k2"]["lyapunov"].values)
    assert back["lyapunov"].attrs["units"] == "step-1"


def test_missing_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="missing input or parameter .after_k2."):
        render(
            figures.FIGURES,
            "F2_spectrum_k",
            {"before": _spectra([[0.0]])},
            {"ks": [2], "scale": "t", "n_neurons": 1, "n_networks": 1},
            tmp_path / "x",
        )
