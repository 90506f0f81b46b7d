"""The workflow profiles: settings that would silently change what a job gets."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def profile(name: str) -> dict:
    # plain YAML apart from YTE's `?if` keys, which load as ordinary (unused) keys
    return yaml.safe_load((ROOT / "profiles" / name / "config.yaml").read_text())


def test_slurm_global_memory_does_not_cap_a_rule():
    p = profile("slurm")
    largest = max(r.get("mem_mb", 0) for r in p["set-resources"].values())
    assert p["resources"]["mem_mb"] >= largest
    assert p["set-resources"]["gait_train"]["mem_mb"] == 8000


def test_slurm_profile_polls_at_the_plugins_pace():
    p = profile("slurm")
    assert "seconds-between-status-checks" not in p
    assert "slurm-init-seconds-before-status-checks" not in p


def test_local_profile_redoes_incomplete_jobs():
    assert profile("local")["rerun-incomplete"] is True
