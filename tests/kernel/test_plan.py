"""The kernel's plan helpers: where a run's files go (one folder per config scale)."""

from pathlib import Path

import pytest
import yaml

from floss.core.errors import FlossError
from floss.core.plan import SCALES, results_dir

ROOT = Path(__file__).resolve().parents[2]


def test_every_scale_has_its_own_folders():
    for scale in SCALES:
        cfg = {"scale": scale}
        assert results_dir(cfg) == f"results/{scale}"
        assert results_dir(cfg, "logs") == f"logs/{scale}"
        assert results_dir(cfg, "benchmarks") == f"benchmarks/{scale}"


def test_scales_are_the_schema_enum():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    assert tuple(schema["properties"]["scale"]["enum"]) == SCALES


@pytest.mark.parametrize("scale", ["huge", "../quick", None, ""])
def test_no_other_scale_reaches_a_path(scale):
    with pytest.raises(FlossError, match=r"^config key scale: .*allowed: smoke, quick"):
        results_dir({"scale": scale})
