"""envs/floss.yaml and pyproject.toml list the same runtime packages."""

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[2]
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "matplotlib-base": "matplotlib",
    "snakemake-minimal": "snakemake",
}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower()


def test_conda_env_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pypi = {_name(d): d for d in project["dependencies"]}
    env = yaml.safe_load((ROOT / "envs" / "floss.yaml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and _name(dep) not in ("python", "pip"):
            conda[CONDA_TO_PYPI.get(_name(dep), _name(dep))] = dep
    assert set(conda) == set(pypi)
    for name, spec in pypi.items():  # same lower bounds
        lower = re.search(r">=([\d.]+)", spec)
        assert lower and f">={lower.group(1)}" in conda[name], (name, spec, conda[name])


def test_conda_env_installs_no_path():
    """Snakemake creates the env from a copy of the file, where a relative `pip: -e ../`
    points nowhere; jobs find floss through the Snakefile's PYTHONPATH prefix instead."""
    env = yaml.safe_load((ROOT / "envs" / "floss.yaml").read_text())
    assert not [d for d in env["dependencies"] if isinstance(d, dict)], env["dependencies"]
