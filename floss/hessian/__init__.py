"""Hessian analysis of RNN losses and bio-plausible learning rules (BiolHessRNN, SPEC §3).

- `hvp`: Hessian-vector products of any loss over a chosen parameter subset, batched over M
  independent networks (the Hessian of a sum of per-network losses is block diagonal);
- `vanilla_hvp`: an analytic (Pearlmutter R-op) HVP of the gradient-flossing vanilla RNN;
- `eigen`: power iteration (the reference's), Lanczos, Hutchinson trace, SLQ density;
- `model`, `rules`, `data`, `train`: the reference ReLU RNN on sequential digits, trained
  by BPTT or the three-factor truncation (notes-hessian.md);
- `curvature`: the same analysis of gradient-flossing networks (figure H4).
"""
