"""Empty stand-ins for the data files a config names (config/paper.yaml's MNIST files): the
plan checks that they exist before any job, so the tests that plan the paper config make
them in a scratch folder and plan from there."""

from __future__ import annotations

from pathlib import Path


def place_user_files(cfg: dict, root: Path) -> list[Path]:
    paths = list(cfg.get("hessian", {}).get("data", {}).get("mnist", {}).values())
    for files in cfg.get("gait", {}).get("data", {}).values():
        paths += files.values()
    made = []
    for p in paths:
        path = root / p
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        made.append(path)
    return made
