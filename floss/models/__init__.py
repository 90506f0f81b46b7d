"""Recurrent cells with a leading network axis; see `floss.models.base.Cell`."""

from __future__ import annotations

from floss.models.base import Cell, concat
from floss.models.gated import GRU, LSTM, init_gated
from floss.models.vanilla import VanillaRNN, init_vanilla

MODELS: dict[str, type[Cell]] = {"vanilla": VanillaRNN, "gru": GRU, "lstm": LSTM}


def init_networks(model: str, seeds, n_neurons: int, **kw) -> Cell:
    """Initialise len(seeds) networks of `model` (one of MODELS)."""
    if model == "vanilla":
        return init_vanilla(seeds, n_neurons, **kw)
    if model in MODELS:
        return init_gated(model, seeds, n_neurons, **kw)
    raise ValueError(f"unknown model {model!r}; allowed: {sorted(MODELS)}")


__all__ = ["Cell", "GRU", "LSTM", "MODELS", "VanillaRNN", "concat", "init_networks"]
