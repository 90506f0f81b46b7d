"""The S2 experiments as a Markdown table (docs/surrogate.md): one row per run of
experiments/s2_sweep.py, the setting as its difference from the paper-size defaults.

    python experiments/s2_table.py RUNS.jsonl [...]     (the lines s2_sweep.py prints)
"""

from __future__ import annotations

import json
import sys

DEFAULTS = {
    "neurons": 80,
    "networks": 4,
    "gain": 1.0,
    "sharpness": 1.0,
    "batch": 16,
    "steps": 300,
    "epochs": 3001,
    "lr": 1e-3,
    "clip": 0.03,
    "seed": 22,
    "window": 100,
}
FLOSSING = {
    "pre_epochs": 500,
    "every": 100,
    "floss_epochs": 500,
    "max_episodes": 2,
    "k": 75,
    "floss_steps": 55,
    "floss_lr": 1e-3,
    "target": 0.0,
    "jacobian_sharpness": None,
    "floss_params": "W_in,J,b",
    "floss_input": "task",
    "tolerance": 0.05,
}
SHORT = {
    "pre_epochs": "Ep",
    "every": "Ef",
    "floss_epochs": "Ei",
    "max_episodes": "Ni",
    "floss_steps": "Tp",
    "neurons": "N",
    "steps": "T",
    "sharpness": "sharpness",
    "jacobian_sharpness": "Jacobian sharpness",
    "floss_lr": "flossing lr",
    "batch": "B",
    "gain": "coupling gain",
    "lr": "BPTT lr",
}


def describe(run: dict) -> str:
    changed = {k: v for k, v in run.items() if k in DEFAULTS and v != DEFAULTS[k]}
    if run["mode"] != "none":
        changed |= {
            k: v for k, v in run.items() if k in FLOSSING and k != "k" and v != FLOSSING[k]
        }  # k is in the flossing column
    text = ", ".join(f"{SHORT.get(k, k)} = {v}" for k, v in changed.items())
    return text or "paper size, reference settings"


def main() -> None:
    rows = [json.loads(line) for f in sys.argv[1:] for line in open(f) if line.strip()]
    print(
        "| d | flossing | setting (vs paper size) | final accuracy per network | "
        "λ1 first → last (per network) | s |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        acc = " / ".join(f"{100 * a:.1f}" for a in r["final_accuracy"])
        lam = " / ".join(f"{a:.2f}→{b:.2f}" for a, b in r["lambda1_first_last"])
        mode = r["mode"] + (f", k = {r['k']}" if r["mode"] != "none" else "")
        print(f"| {r['delay']} | {mode} | {describe(r)} | {acc} % | {lam} | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
