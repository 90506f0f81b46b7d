"""Recurrent networks and their dynamics: cells, network files, tasks, Lyapunov spectra
(QR), flossing, BPTT training, per-network optimisers. Shared by the families."""
