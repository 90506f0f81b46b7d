"""Command line: `python -m floss <stage> ...` (or the `floss` script).

The stages of every family (floss.families), plus three commands common to all of them:
`figure` (any family's figure), `bench` (every family's timing table) and `compare` (two
result trees, NetCDF by NetCDF). Bad arguments and unusable files end in a one-line error
naming the option or file, with exit status 2; a stage that runs logs its parameters first
(floss.core.cli.parameters_held).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from floss import __version__, families
from floss.core.cli import (
    check_arguments,
    execution_options,
    figure_arguments,
    integer,
    parameters_held,
    torch_device,
)
from floss.core.errors import FlossError


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (argparse prints the whole usage block first), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="floss", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"floss {__version__}")
    sub = parser.add_subparsers(
        dest="stage",
        required=True,
        metavar="STAGE",
        parser_class=OneLineParser,
        help="the stage to run (`floss STAGE --help` lists its options)",
    )
    execution = execution_options()
    for family in families.FAMILIES:
        families.part(family, "cli").register(sub, execution)

    p = sub.add_parser("figure", help="render any family's figure (PDF, PNG, NetCDF)")
    p.add_argument("name", help="figure name, e.g. F1_lambda_control, S2B_accuracy_vs_delay")
    p.add_argument(
        "--input",
        action="extend",
        nargs="+",
        default=[],
        metavar="LABEL=PATH",
        help="labelled input files (the option may be repeated)",
    )
    p.add_argument("--params", default="{}", help="figure parameters as JSON")
    p.add_argument("--out", required=True, help="output prefix (adds .pdf, .png, .nc)")
    p.set_defaults(command=cmd_figure)

    p = sub.add_parser("bench", parents=[execution], help="every family's benchmark table")
    p.add_argument(
        "--networks",
        type=integer("--networks"),
        nargs="+",
        default=[1, 10],
        help="numbers of networks M batched in each timed row",
    )
    p.add_argument(
        "--repeats", type=integer("--repeats"), default=3, help="timing repeats (median)"
    )
    p.add_argument("--out", default="results/bench/bench.txt", help="the table as text")
    p.add_argument(
        "--families",
        nargs="+",
        choices=families.FAMILIES,
        default=list(families.FAMILIES),
        help="which families' tables (default: all)",
    )
    p.set_defaults(command=cmd_bench)

    p = sub.add_parser("claims", help="measure every family's claims on figure data (verdicts)")
    p.add_argument(
        "--input",
        action="extend",
        nargs="+",
        default=[],
        metavar="FIGURE=PATH",
        help="figure data files (NetCDF written by `figure`); claims of figures not given: not run",
    )
    p.add_argument("--scale", required=True, help="the config's scale label (smoke, quick, ...)")
    p.add_argument("--out", required=True, help="output prefix (adds .nc, .csv, .md)")
    p.set_defaults(command=cmd_claims)

    p = sub.add_parser("compare", help="compare the NetCDF data of two result trees")
    p.add_argument("reference", help="results folder of the reference run")
    p.add_argument("other", help="results folder of the run to check")
    p.add_argument("--subset", action="store_true", help="OTHER may lack files of REFERENCE")
    p.set_defaults(command=cmd_compare)
    return parser


def cmd_figure(args) -> None:
    from floss.core.figures import render

    registry = families.part(families.family_of(args.name), "figures").FIGURES
    render(registry, args.name, *figure_arguments(args), args.out)


def cmd_bench(args) -> None:
    device = torch_device(args)
    tables = [
        families.part(f, "bench").report(args.repeats, args.networks, device) for f in args.families
    ]
    text = "\n\n".join(t for t in tables if t)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    print(text)


def cmd_claims(args) -> None:
    from floss.core import claims, io
    from floss.core.compare import MEASURED

    figures, params = {}, {}
    for item in args.input:
        name, sep, path = item.partition("=")
        if not sep:
            raise FlossError(f"--input must be FIGURE=PATH, got {item!r}")
        figures[name] = io.read(path)
        config = json.loads(figures[name].attrs.get("floss_config", "{}"))
        params[name] = {k: v for k, v in config.items() if k != "figure"}
    every = [c for f in families.FAMILIES for c in families.part(f, "claims").CLAIMS]
    rows = claims.evaluate(every, figures, params)
    timed = [n for n, ds in figures.items() if any(MEASURED in v.attrs for v in ds.values())]
    table = claims.to_dataset(rows, args.scale, timed)
    table.attrs.update(io.provenance("claims", {"scale": args.scale, "figures": sorted(figures)}))
    prefix = Path(args.out)
    io.write(table, prefix.with_suffix(".nc"))
    io.write_text(claims.to_csv(rows), prefix.with_suffix(".csv"))
    text = claims.to_markdown(rows, args.scale)
    io.write_text(text, prefix.with_suffix(".md"))
    print(text)


def cmd_compare(args) -> int:
    from floss.core.compare import differences

    for path in (args.reference, args.other):
        if not Path(path).is_dir():
            raise FlossError(f"{path}: no such results folder")
    found = differences(args.reference, args.other, subset=args.subset)
    for line in found:
        print(line)
    print(f"{len(found)} differences")
    return 1 if found else 0


def main(argv: Sequence[str] | None = None) -> int:
    # torch reads this at its first CPU allocation (none has happened yet): tensors of >= 2 MB
    # get 2 MB pages, so one made anew each epoch costs few page faults (docs/performance.md)
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    failing = os.environ.get("FLOSS_FAIL_RULE", "").replace("_", "-")
    if failing and failing == args.stage:  # the pipeline's failure tests (config fail_rule)
        print(f"fail_rule: {args.stage} fails on purpose", file=sys.stderr)
        return 1
    start = time.monotonic()
    try:
        check_arguments(args)
        with parameters_held(args):  # the log's first line, once the stage's checks passed
            status = args.command(args)
    except (ValueError, OSError) as exc:  # FlossError, the library's ValueErrors, files
        print(f"floss {args.stage}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, still one line; FLOSS_DEBUG=1 shows the traceback
        if os.environ.get("FLOSS_DEBUG"):
            raise
        print(
            f"floss {args.stage}: internal error: {type(exc).__name__}: {exc} "
            "(FLOSS_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    if not status:  # the log's summary: what ran, how long it took
        command = shlex.join(sys.argv[1:] if argv is None else list(argv))
        print(f"floss: done in {time.monotonic() - start:.1f} s: {command}", file=sys.stderr)
    return status or 0
