"""Tests of building a run from a Config and a Problem: the loss weights it resolves."""

from __future__ import annotations

import pytest

import pinnkit as pk
from tests.helpers import TINY, heat_problem


def test_unknown_weight_name_is_a_config_error():
    with pytest.raises(pk.ConfigError, match="Did you mean `bc_u`"):
        pk.fit(heat_problem(), TINY.replace(weights={"bc_v": 2.0}), out=None)
