"""The reference model of BiolHessRNN (docs/science.md §3.0-§3.1), for M networks at once.

The reference's "LSNN" cell with its spiking parts switched off is a vanilla ReLU RNN:
    h_t = relu(x_t W_in + h_{t-1} (W_rec * (1 - I))),   h_0 = 0,  no recurrent bias
    logits = h_T W_out + b_out                            (read out at the last step only)
    L = CE(softmax(logits), label), batch mean, + reg_l2 (|W_in|^2 + |W_rec|^2 + |W_out|^2) / 2
Weights are stored as the reference uses them (row vector times matrix): W_rec[pre, post].
The self-connections are masked in the forward pass; the diagonal entries still exist, get
only the L2 gradient and are inside the Hessian (docs/science.md §3.1, §3.3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from floss.core import seeding

PARAMS = ("W_in", "W_rec", "W_out", "b_out")
#: CF descriptions: name -> (dims after `network`, long_name)
PARAM_DIMS = {
    "W_in": (("input", "neuron"), "input weights W_in[input, neuron]"),
    "W_rec": (("neuron_pre", "neuron"), "recurrent weights W_rec[pre, post] (diagonal masked)"),
    "W_out": (("neuron", "class"), "readout weights W_out[neuron, class]"),
    "b_out": (("class",), "readout bias"),
    "feedback": (("neuron", "class"), "fixed random feedback matrix (random-feedback rule)"),
}


def init_params(
    seeds: Sequence[int],
    n_in: int,
    n_rec: int,
    n_out: int = 10,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> dict[str, torch.Tensor]:
    """The reference's initialisation, one `net` stream per network: W_in ~ N(0, 2/n_in),
    W_rec ~ N(0, 2/N), W_out glorot-uniform (TF's default), b_out = 0. A random feedback
    matrix with W_out's distribution is drawn after them (so it never changes the weights)."""
    per: dict[str, list[torch.Tensor]] = {k: [] for k in ("W_in", "W_rec", "W_out", "feedback")}
    bound = float(np.sqrt(6.0 / (n_rec + n_out)))
    for seed in seeds:
        gen = seeding.generator(int(seed), "net")
        per["W_in"].append(torch.randn(n_in, n_rec, generator=gen) / np.sqrt(n_in / 2))
        per["W_rec"].append(torch.randn(n_rec, n_rec, generator=gen) / np.sqrt(n_rec / 2))
        for name in ("W_out", "feedback"):
            per[name].append((torch.rand(n_rec, n_out, generator=gen) * 2 - 1) * bound)
    out = {k: torch.stack(v).to(dtype=dtype, device=device) for k, v in per.items()}
    out["b_out"] = torch.zeros(len(seeds), n_out, dtype=dtype, device=device)
    return out


class _FeedbackReadout(torch.autograd.Function):
    """logits = h W_out + b; the error reaches h through a fixed matrix B instead of W_out
    (random feedback); W_out and b get their exact gradients."""

    @staticmethod
    def forward(ctx, h, w_out, b_out, feedback):
        ctx.save_for_backward(h, feedback)
        return torch.baddbmm(b_out[:, None], h, w_out)

    @staticmethod
    def backward(ctx, grad):
        h, feedback = ctx.saved_tensors
        return grad @ feedback.transpose(1, 2), h.transpose(1, 2) @ grad, grad.sum(1), None


def logits(
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    truncate: bool = False,
    feedback: torch.Tensor | None = None,
) -> torch.Tensor:
    """Logits at the last step, (M, B, C). x: (T, B, n_in) shared by all networks or
    (T, M, B, n_in) per network. truncate: stop the gradient through h_{t-1} in the recurrent
    input (the reference's three-factor rule); feedback: random-feedback readout."""
    w_in, w_rec = params["W_in"], params["W_rec"]
    m = w_rec.shape[0]
    eye = torch.eye(w_rec.shape[-1], dtype=w_rec.dtype, device=w_rec.device)
    w_masked = w_rec * (1 - eye)
    spec = "tbi,mij->tmbj" if x.dim() == 3 else "tmbi,mij->tmbj"
    drive = torch.einsum(spec, x.to(w_in.dtype), w_in)
    h = torch.zeros(m, drive.shape[2], w_rec.shape[-1], dtype=w_rec.dtype, device=w_rec.device)
    for d in drive.unbind(0):
        h = torch.relu(torch.baddbmm(d, h.detach() if truncate else h, w_masked))
    if feedback is not None:
        return _FeedbackReadout.apply(h, params["W_out"], params["b_out"], feedback)
    return torch.baddbmm(params["b_out"][:, None], h, params["W_out"])


def cross_entropy(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Batch-mean CE per network: logits (M, B, C), labels (B,) or (M, B) -> (M,)."""
    labels = labels.expand(z.shape[:2])
    return (
        F.cross_entropy(z.flatten(0, 1), labels.flatten(), reduction="none")
        .view(z.shape[:2])
        .mean(1)
    )


def l2(params: dict[str, torch.Tensor], reg_l2: float) -> torch.Tensor:
    """reg_l2 * sum of squares / 2 of W_in, W_rec, W_out (tf.nn.l2_loss), per network."""
    sq = sum(params[n].pow(2).flatten(1).sum(1) for n in ("W_in", "W_rec", "W_out"))
    return reg_l2 * sq / 2


def accuracy(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (z.argmax(-1) == labels.expand(z.shape[:2])).to(z.dtype).mean(1)


def true_loss(x: torch.Tensor, labels: torch.Tensor, reg_l2: float):
    """The loss the Hessian is taken of: full autodiff, no truncation or feedback
    (docs/science.md §3.3)."""

    def loss(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return cross_entropy(logits(params, x), labels) + l2(params, reg_l2)

    return loss
