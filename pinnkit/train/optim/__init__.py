"""Optimiser stages of a run, one file each: Adam (`adam.py`), then the L-BFGS polish
(`lbfgs.py`)."""
