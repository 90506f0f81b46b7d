"""Surrogate gradient flossing of binary and spiking RNNs (docs/science.md §2; Engelken & Abbott
2024).

Modules: networks (network files with the models' descriptors), spectrum (inputs and no-grad
surrogate spectra), flossing (SurrogateFlosser), adam (per-network Adam), training (flossing
policies during training), stages, plan (the pipeline's files, options and figures), figures
(S1A-S2D, S3), cli (`python -m floss surrogate-*`), bench (timing rows).
"""
