"""floss: gradient flossing and related analyses of recurrent-network training.

A plain library (no Snakemake inside): tasks, batched recurrent cells, Lyapunov spectra,
flossing, BPTT training and NetCDF I/O. See docs/science.md §1 for the science it follows.
"""

__version__ = "0.1.0"
