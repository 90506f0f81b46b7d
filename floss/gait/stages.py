"""The GAIT-prop stages: data in, a Dataset (or table) out; writing is left to the caller.

train  one rule on one data set, every seed batched (`gait-train`)
table  peak and final test accuracy per data set, variant and rule (`gait-table`)
"""

from __future__ import annotations

import csv
import io as text_io
from collections.abc import Callable, Sequence

import torch
import xarray as xr

from floss.core import io
from floss.gait.data import Split
from floss.gait.layers import init_net, square_widths
from floss.gait.plan import RULE_LABELS, RULES, parse_runs, reference_init
from floss.gait.training import GaitConfig
from floss.gait.training import train as train_net


def network_widths(
    variant: str, n_inputs: int, hidden: int, tower: Sequence[int] | None
) -> tuple[int, ...]:
    """Layer widths, input first: square (and linear) nets, or the tower's own widths."""
    if variant != "tower":
        return square_widths(n_inputs, hidden)
    if not tower or tower[0] != n_inputs:
        raise ValueError(
            f"tower widths (--widths) must start with the input size {n_inputs}, got {tower}"
        )
    return tuple(tower)


def train(
    data: Split,
    cfg: GaitConfig,
    variant: str,
    seeds: Sequence[int],
    *,
    hidden: int = 4,
    tower: Sequence[int] | None = None,
    init: str | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    data_params: dict | None = None,
    progress: Callable[..., None] | None = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """Train every seed of a fresh net with cfg.rule; init None is the reference's (orthogonal
    iff cfg.reg = 0); `data_params` (how `data` was loaded) go into the provenance. With an
    `output` path and checkpoint_every > 0 the run state is saved to `<output>.ckpt` every
    that many batches; a rerun of the same job resumes from it."""
    init = init or reference_init(cfg.reg)
    widths = network_widths(variant, data.n_inputs, hidden, tower)
    net = init_net(list(seeds), widths, init, variant == "linear", dtype, device)
    ds = train_net(net, data, cfg, progress, output, checkpoint_every)
    params = {
        **cfg.as_dict(),
        "dataset": data.name,
        "variant": variant,
        "init": init,
        "seed": seeds[0],
        "n_seeds": len(seeds),
        "source": data.source,
        **(data_params or {}),
    }
    ds.attrs.update(dataset=data.name, source=data.source, variant=variant)
    ds.attrs.update(io.provenance("gait-train", params, seeds=list(seeds), device=str(device)))
    return ds


def table(runs: dict[str, xr.Dataset]) -> list[dict]:
    """One row per run (labelled DATASET/VARIANT/RULE): peak and final test accuracy, mean and
    s.d. over seeds, sorted by data set, variant and rule."""
    rows = []
    order = {r: i for i, r in enumerate(RULES)}
    for (dset, var, rule), ds in sorted(parse_runs(runs).items(), key=lambda kv: order[kv[0][2]]):
        acc = ds["test_accuracy"]
        peak, final = acc.max("eval").values, acc.isel(eval=-1).values
        rows.append(
            {
                "dataset": dset,
                "variant": var,
                "rule": rule,
                "seeds": acc.sizes["seed"],
                "epochs": float(ds["eval_epoch"].values[-1]),
                "peak_test_mean": peak.mean(),
                "peak_test_std": peak.std(),
                "final_test_mean": final.mean(),
                "final_test_std": final.std(),
                "final_train_mean": ds["train_accuracy"].isel(eval=-1).values.mean(),
            }
        )
    rows.sort(key=lambda r: (r["dataset"], r["variant"]))
    return rows


def table_csv(rows: list[dict]) -> str:
    """The rows as CSV (floats with 6 decimals)."""
    buf = text_io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({k: f"{v:.6f}" if isinstance(v, float) else v for k, v in r.items()})
    return buf.getvalue()


def table_markdown(rows: list[dict], note: str = "") -> str:
    """Peak / final test accuracy (%), mean ± s.d. over seeds, like the paper's supplement."""
    lines = [
        "| dataset | variant | rule | seeds | epochs | peak test acc (%) | final test acc (%) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['variant']} | {RULE_LABELS[r['rule']]} | {r['seeds']} | "
            f"{r['epochs']:g} | {100 * r['peak_test_mean']:.2f} ± {100 * r['peak_test_std']:.2f} "
            f"| {100 * r['final_test_mean']:.2f} ± {100 * r['final_test_std']:.2f} |"
        )
    return "\n".join(lines) + (f"\n\n{note}\n" if note else "\n")
