"""GAIT-prop vs backpropagation vs target propagation in invertible networks.

Reproduces Ahmad, van Gerven & Ambrogioni, NeurIPS 2020 (arXiv 2006.06438) from the reading
of its reference code in docs/science.md §4. Every network batch holds S seeds of one
architecture as one tensor computation (weights of shape (S, n, n)).
"""
