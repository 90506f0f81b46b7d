"""Recurrent cells with a leading network axis; see `floss.rnn.cells.base.Cell`."""

from __future__ import annotations

from floss.rnn.cells.base import Cell, concat
from floss.rnn.cells.binary import BinaryRNN, init_binary
from floss.rnn.cells.gated import GRU, LSTM, init_gated
from floss.rnn.cells.spiking import SpikingRNN, init_spiking
from floss.rnn.cells.vanilla import VanillaRNN, init_vanilla

MODELS: dict[str, type[Cell]] = {
    "vanilla": VanillaRNN,
    "gru": GRU,
    "lstm": LSTM,
    "binary": BinaryRNN,  # surrogate-gradient models (docs/science.md §2), see floss.surrogate
    "spiking": SpikingRNN,
}


def init_networks(model: str, seeds, n_neurons: int, **kw) -> Cell:
    """Initialise len(seeds) networks of `model` (one of MODELS)."""
    if model == "vanilla":
        return init_vanilla(seeds, n_neurons, **kw)
    if model == "binary":
        return init_binary(seeds, n_neurons, **kw)
    if model == "spiking":
        return init_spiking(seeds, n_neurons, **kw)
    if model in MODELS:
        return init_gated(model, seeds, n_neurons, **kw)
    raise ValueError(f"unknown model {model!r}; allowed: {sorted(MODELS)}")


__all__ = ["Cell", "GRU", "LSTM", "MODELS", "VanillaRNN", "concat", "init_networks"]
