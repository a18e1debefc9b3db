"""Tests of `pinnkit.problem.symbols`: `Parameter` validation, equality and pickling;
`Normal` needs a coordinate symbol.
"""

from __future__ import annotations

import pickle

import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import ProblemError
from tests.helpers import heat

x, y, t, s = sp.symbols("x y t s")
u = sp.Function("u")(x, t)


def test_normal_needs_a_symbol():
    with pytest.raises(ProblemError, match=r"Normal\('x'\): expected a coordinate symbol"):
        pk.Normal("x")


# -- Parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("2D",), {}, r"Parameter name '2D' is not a valid identifier"),
        (("D", float("nan")), {}, r'Parameter "D": init=nan is not finite'),
        (("D", 0.0), {"log": True}, r"log=True needs a positive init, found 0.0"),
    ],
)
def test_bad_parameters(args, kwargs, match):
    with pytest.raises(ProblemError, match=match):
        pk.Parameter(*args, **kwargs)


def test_parameter_equality_pickling_and_collection():
    D = pk.Parameter("D", init=0.1, log=True)
    again = pickle.loads(pickle.dumps(D))
    assert again == D and hash(again) == hash(D)
    assert (again.init, again.log) == (0.1, True)
    # Settings are part of identity: a Parameter is neither its plain Symbol nor one with
    # another init.
    assert D != pk.Parameter("D", init=0.2, log=True)
    assert D != pk.Parameter("D", init=0.1)
    assert D != sp.Symbol("D", real=True)
    problem = heat(equations=[sp.Eq(u.diff(t), D * u.diff(x, 2))])
    assert problem.parameters == (D,)
    normal = pickle.loads(pickle.dumps(pk.Normal(x)))
    assert normal == pk.Normal(x) and normal.coord == x
