"""The kernel: NetCDF I/O, checkpoints, seeding, CLI helpers, plan helpers, figure
rendering, timing and image data sets. It imports no family."""
