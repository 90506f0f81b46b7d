"""Surrogate gradient flossing of binary and spiking RNNs (SPEC §2; Engelken & Abbott 2024).

Modules: dynamics (inputs, surrogate spectra, SurrogateFlosser), adam (per-network Adam),
training (flossing policies during training), stages, plan (the pipeline's files and
options), figures (S1A-S2D, S3), cli (`python -m floss surrogate-*`), bench.
"""
