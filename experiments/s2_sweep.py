"""Surrogate S2 experiments (docs/surrogate.md, "S2: what was tried"): train binary RNNs on the
delayed XOR task under one setting and print each network's final accuracy.

    python experiments/s2_sweep.py --delay 18 --mode periodic --k 1 --out RESULT.nc

Every option defaults to the pipeline's paper-size value (config/paper.yaml, surrogate.xor);
the NetCDF written is the surrogate-train stage's own output, with the setting in its attrs.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from floss.core import io
from floss.rnn.cells.binary import BinaryRNN, heaviside, surrogate_derivative
from floss.rnn.flossing import FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig
from floss.surrogate import stages
from floss.surrogate.flossing import SurrogateFlosser
from floss.surrogate.networks import load_cell
from floss.surrogate.training import FlossingPolicy, SurrogateTrainer


def variant(cell: BinaryRNN, jacobian_sharpness: float | None, flossed: str) -> BinaryRNN:
    """The binary RNN with another surrogate sharpness in its Jacobian (flossing and spectra;
    the BPTT backward pass keeps `sharpness`) and another set of flossed parameters."""
    g_jac = cell.sharpness if jacobian_sharpness is None else jacobian_sharpness

    def _phi(self, x):
        return heaviside(x, self.sharpness), surrogate_derivative(x, g_jac)

    names = tuple(flossed.split(","))
    kind = type("BinaryVariant", (BinaryRNN,), {"_phi": _phi, "flossed": names})
    return kind(cell.param_dict(), cell.meta)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    a = p.add_argument
    a("--delay", type=int, default=18, help="d of y_t = x_{t-d/2} xor x_{t-d}")
    a("--neurons", type=int, default=80)
    a("--networks", type=int, default=4)
    a("--gain", type=float, default=1.0, help="coupling gain of J")
    a("--sharpness", type=float, default=1.0, help="surrogate sharpness (Jacobian and backward)")
    a("--batch", type=int, default=16)
    a("--steps", type=int, default=300, help="T")
    a("--epochs", type=int, default=3001)
    a("--lr", type=float, default=1e-3, help="BPTT Adam learning rate")
    a("--clip", type=float, default=0.03)
    a("--mode", choices=["none", "periodic", "adaptive"], default="none")
    a("--pre-epochs", type=int, default=500, help="Ep")
    a("--every", type=int, default=100, help="Ef")
    a("--floss-epochs", type=int, default=500, help="Ei")
    a("--max-episodes", type=int, default=2, help="Ni")
    a("--k", type=int, default=75)
    a("--floss-steps", type=int, default=55, help="Tp")
    a("--floss-lr", type=float, default=1e-3)
    a("--target", type=float, default=0.0)
    a(
        "--jacobian-sharpness",
        type=float,
        default=None,
        help="sharpness of sigma' in the flossing Jacobian and spectra (default: --sharpness)",
    )
    a("--floss-params", default="W_in,J,b", help="parameters flossing updates")
    a("--floss-input", choices=["task", "zero"], default="task")
    a("--tolerance", type=float, default=0.05, help="adaptive: |lambda_1 - target| threshold")
    a("--seed", type=int, default=22)
    a("--window", type=int, default=100, help="final accuracy: mean over the last epochs")
    a("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    net = stages.init(
        "binary",
        args.seed,
        args.networks,
        args.neurons,
        batch=args.batch,
        gains=args.gain,
        sharpness=args.sharpness,
    )
    task = Task.from_name("xor", args.delay // 2, args.steps, channels=1)
    policy = FlossingPolicy(
        args.mode,
        args.pre_epochs,
        args.every,
        args.floss_epochs,
        args.max_episodes,
        args.tolerance,
    )
    cfg = TrainConfig(
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        clip=args.clip,
        n_singular=0,
        spectrum_every=500,
        spectrum_steps=300,
        spectrum_transient=50,
    )
    floss = None
    if args.mode != "none":
        floss = FlossingConfig(
            k=args.k,
            steps=args.floss_steps,
            target=args.target,
            lr=args.floss_lr,
            input_mode=args.floss_input,
        )
    t = time.perf_counter()
    if args.jacobian_sharpness is None and args.floss_params == "W_in,J,b":
        ds = stages.train(net, task, cfg, policy, floss)  # the pipeline's own stage
    else:
        cell = variant(load_cell(net, "init"), args.jacobian_sharpness, args.floss_params)
        flosser = SurrogateFlosser(cell, floss) if floss else None
        h = SurrogateTrainer(cell, task, cfg, policy, flosser).run()
        ds = stages.cell_to_dataset(cell).assign_coords(epoch=np.arange(1, cfg.epochs + 1))
        ds["accuracy"] = (("network", "epoch"), h["accuracy"].T)
        ds["loss"] = (("network", "epoch"), h["loss"].T)
        ds["lyapunov"] = (
            ("network", "spectrum_epoch", "exponent"),
            h["lyapunov"].transpose(1, 0, 2),
        )
    seconds = time.perf_counter() - t
    acc = ds["accuracy"].isel(epoch=slice(-args.window, None)).mean("epoch").values
    lam = ds["lyapunov"].isel(exponent=0).values  # (network, spectrum_epoch)
    setting = {k: v for k, v in vars(args).items() if k != "out"}
    ds.attrs["s2_setting"] = json.dumps(setting)
    io.write(ds, args.out)
    print(
        json.dumps(
            {
                **setting,
                "final_accuracy": [round(float(x), 4) for x in acc],
                "lambda1_first_last": [
                    [round(float(r[0]), 3), round(float(r[-1]), 3)] for r in lam
                ],
                "seconds": round(seconds, 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
