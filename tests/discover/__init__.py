"""Tests of `pinnkit.discover`, one file per module (`test_select.py` tests `select.py`).

This file makes the folder a package, so its test modules are imported as `discover.test_*`
and may share basenames with tests in other folders (`test_base.py`)."""
