"""Optimiser stages of a run, one file each: the first phase's Adam (`adam.py`) or SOAP
(`soap.py`), chosen in `first.py`; then the L-BFGS polish (`lbfgs.py`); then the further
stages (`ssbroyden.py`, `gauss_newton.py`, made in `stages.py`)."""
