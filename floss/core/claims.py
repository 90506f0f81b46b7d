"""Verdicts as measurements: each family states its papers' claims as code (floss/<family>/
claims.py, a list of Claim), and the `claims` stage measures every claim on the NetCDF data of
its figure and writes one table (NetCDF, CSV, Markdown).

A claim's criterion is fixed in code before any result is seen; `measure` reads only the
figure's plotted data and parameters and returns the value, its spread and the verdict:

    reproduced      within the published value's spread or the stated criterion
    direction       the effect has the published sign, not its size (the most a claim can
                    reach where the paper gives only a direction)
    not reproduced  neither
    not run         the figure is disabled at this scale (no data)
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from floss.core.errors import FlossError

REPRODUCED, DIRECTION, NOT_REPRODUCED, NOT_RUN = (
    "reproduced",
    "direction",
    "not reproduced",
    "not run",
)
VERDICTS = (REPRODUCED, DIRECTION, NOT_REPRODUCED, NOT_RUN)


@dataclass(frozen=True)
class Measurement:
    """What one claim's measure found in its figure's data."""

    value: float  # the measured quantity (in the claim's units)
    spread: float  # its s.d. over networks or seeds (nan: a single number)
    n: int  # networks or seeds behind it
    verdict: str  # one of VERDICTS
    detail: str = ""  # one line: the numbers behind the verdict

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} not allowed; allowed: {list(VERDICTS)}")


@dataclass(frozen=True)
class Claim:
    """One published claim and the fixed rule that decides whether a run reproduces it."""

    id: str  # e.g. "F1.a"
    figure: str  # the figure whose data it is measured on
    claim: str  # the claim in one sentence
    quantity: str  # what is measured, with units
    published: str  # the published value or criterion
    source: str  # paper / figure / reference code, and the docs/science.md section
    criterion: str  # the rule, in words, that `measure` applies
    measure: Callable[[xr.Dataset, dict], Measurement]


def verdict(size_ok: bool, sign_ok: bool, direction_only: bool = False) -> str:
    """The verdict of a criterion with a size part and a sign part: reproduced when the size
    criterion holds (never where the paper gives only a direction), direction when only the
    sign holds, not reproduced otherwise."""
    if size_ok and sign_ok and not direction_only:
        return REPRODUCED
    return DIRECTION if sign_ok else NOT_REPRODUCED


FIELDS = ("id", "figure", "claim", "quantity", "published", "source", "criterion")
RESULT_FIELDS = ("value", "spread", "n", "verdict", "detail")


def evaluate(
    claims: Sequence[Claim], figures: Mapping[str, xr.Dataset], params: Mapping[str, dict]
) -> list[dict]:
    """One row per claim: its statement, and the measurement on figures[claim.figure]
    (`not run` where that figure has no data). params[figure] are the figure's parameters."""
    rows = []
    for c in claims:
        data = figures.get(c.figure)
        if data is None:
            m = Measurement(math.nan, math.nan, 0, NOT_RUN, "figure disabled at this scale")
        else:
            try:
                m = c.measure(data, dict(params.get(c.figure, {})))
            except KeyError as exc:
                raise FlossError(f"claim {c.id}: figure {c.figure} data lacks {exc}") from None
        rows.append({**{f: getattr(c, f) for f in FIELDS}, **m.__dict__})
    return rows


def to_dataset(rows: Sequence[dict], scale: str, measured: Sequence[str] = ()) -> xr.Dataset:
    """The table; rows measured on figures in `measured` (wall-clock data, which differs from
    run to run) are listed in the results' `floss_measured_rows` attr, which floss compare
    skips."""
    data = {f: ("row", [r[f] for r in rows]) for f in FIELDS + ("verdict", "detail")}
    data["value"] = ("row", np.array([r["value"] for r in rows], dtype=float))
    data["spread"] = ("row", np.array([r["spread"] for r in rows], dtype=float))
    data["n"] = ("row", np.array([r["n"] for r in rows], dtype=np.int64))
    ds = xr.Dataset(data, coords={"row": np.arange(len(rows))}, attrs={"scale": scale})
    ds["value"].attrs.update(long_name="measured value (units in `quantity`)", units="1")
    ds["spread"].attrs.update(long_name="standard deviation over networks or seeds", units="1")
    ds["n"].attrs.update(long_name="networks or seeds measured", units="1")
    ds["row"].attrs.update(long_name="row of the claims table", units="1")
    for f in FIELDS + ("verdict", "detail"):
        ds[f].attrs.update(long_name=f"claim {f}", units="1")
    ds["verdict"].attrs["flag_values"] = ", ".join(VERDICTS)
    timed = [str(i) for i, r in enumerate(rows) if r["figure"] in measured]
    if timed:
        for f in ("value", "spread", "n", "verdict", "detail"):
            ds[f].attrs["floss_measured_rows"] = ",".join(timed)
    return ds


def number(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.3g}"


def to_csv(rows: Sequence[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[*FIELDS, *RESULT_FIELDS], lineterminator="\n")
    w.writeheader()
    w.writerows({k: r[k] for k in (*FIELDS, *RESULT_FIELDS)} for r in rows)
    return buf.getvalue()


def to_markdown(rows: Sequence[dict], scale: str) -> str:
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    head = (
        f"Claims at {scale} scale: "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        + f" (of {len(rows)}).\n\n"
    )
    cols = ("id", "claim", "published", "measured", "verdict", "detail")
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for r in rows:
        measured = number(r["value"])
        if not math.isnan(r["spread"]):
            measured += f" ± {number(r['spread'])}"
        if r["n"]:
            measured += f" (n = {r['n']})"
        cells = (r["id"], r["claim"], r["published"], measured, f"**{r['verdict']}**", r["detail"])
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return head + "\n".join(lines) + "\n"
