"""Hessian analysis of RNN losses and bio-plausible learning rules (BiolHessRNN, docs/science.md
§3).

- `hvp`: Hessian-vector products of any loss over a chosen parameter subset, batched over M
  independent networks (the Hessian of a sum of per-network losses is block diagonal);
- `analytic_hvp`: an analytic (Pearlmutter R-op) HVP of the gradient-flossing vanilla RNN;
- `eigen`: power iteration (the reference's), Lanczos, Hutchinson trace, SLQ density;
- `model`, `learning_rules`, `data`, `training`: the reference ReLU RNN on sequential digits,
  trained by BPTT or the three-factor truncation (docs/science.md §3);
- `curvature`: the curvature measures at fixed parameters;
- the family contract (floss.families): `plan`, `stages` (hessian-train, and
  hessian-curvature, the same analysis of gradient-flossing networks for figure H4), `cli`,
  `figures` (H1-H4), `bench`.
"""
