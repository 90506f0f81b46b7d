"""Learning rules: the gradient estimate each training step uses (docs/science.md §3.2).

- `bptt`: the exact gradient of the loss through all steps (reference custom_mode=0).
- `three_factor`: the reference's custom_mode=1: the same forward pass with h_{t-1} wrapped in
  stop_gradient in the recurrent input, so no credit flows back in time. With the readout at
  the last step only, dL/dW_rec[i, j] = sum_b delta_T[b, j] relu'(v_T[b, j]) h_{T-1}[b, i]
  + reg_l2 W_rec[i, j] (diagonal: reg only), delta_T = (softmax - onehot) W_out^T / B.
- feedback `random`: the error reaches the hidden units through a fixed random matrix in place
  of W_out^T (the paper's family of rules includes it; not in the reference repo, which uses
  the symmetric W_out). Combines with either rule.
The Hessian is always of the true loss (`model.true_loss`), whatever the rule.
"""

from __future__ import annotations

import torch

from floss.hessian import model

RULES = ("bptt", "three_factor")
FEEDBACK = ("symmetric", "random")


def check(rule: str, feedback: str) -> None:
    if rule not in RULES:
        raise ValueError(f"learning rule {rule!r} not allowed; allowed: {list(RULES)}")
    if feedback not in FEEDBACK:
        raise ValueError(f"feedback {feedback!r} not allowed; allowed: {list(FEEDBACK)}")


def gradients(
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    labels: torch.Tensor,
    reg_l2: float,
    rule: str = "bptt",
    feedback: str = "symmetric",
    feedback_matrix: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Loss (M,), logits (M, B, C) and the rule's gradient estimate of every parameter.

    params hold the networks' weights (leading dim M); they need not require grad."""
    check(rule, feedback)
    if feedback == "random" and feedback_matrix is None:
        raise ValueError("random feedback needs the feedback matrix")
    leaves = {n: params[n].detach().requires_grad_() for n in model.PARAMS}
    z = model.logits(
        leaves,
        x,
        truncate=rule == "three_factor",
        feedback=feedback_matrix if feedback == "random" else None,
    )
    loss = model.cross_entropy(z, labels) + model.l2(leaves, reg_l2)
    grads = torch.autograd.grad(loss.sum(), [leaves[n] for n in model.PARAMS])
    return loss.detach(), z.detach(), dict(zip(model.PARAMS, grads))
