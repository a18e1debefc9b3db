"""Tests of `pinnkit.compile.plan`: the derivative plan (deduplication, closure, extra
partials) and `Partial` labels, parents and directions.
"""

from __future__ import annotations

import pytest
import sympy as sp

from pinnkit.compile import Partial, build_plan

x, y, t = sp.symbols("x y t")
u_ = sp.Function("u")


# -- the derivative plan ---------------------------------------------------------------------


def test_plan_deduplicates_partials_shared_by_equations():
    u = u_(x, t)
    plan, rewritten, symbols = build_plan(
        [u.diff(t) + u * u.diff(x), u.diff(x) ** 2 - u.diff(x, 2)], coords=(x, t), fields=(u,)
    )
    u_x = Partial("u", (1, 0))
    assert plan.needed.count(u_x) == 1
    assert all(r.has(symbols[u_x]) for r in rewritten)
    assert not any(r.has(sp.Derivative) or r.has(u) for r in rewritten)
    assert sorted(plan.describe().split(", ")) == ["u", "u_t", "u_x", "u_xx"]
    assert [p.order for p in plan.needed] == [0, 1, 1, 2]
    assert plan.max_order == 2


def test_plan_closure_contains_every_intermediate():
    u = u_(x, y, t)
    plan, _, _ = build_plan([u.diff(x, 2, y, 1, t, 1)], coords=(x, y, t), fields=(u,))
    (target,) = plan.needed
    assert plan.label(target) == "u_xxyt"
    assert set(plan.needed) <= set(plan.closure)
    for partial in plan.closure:
        parent = partial.parent()
        assert parent is None or parent in plan.closure
    assert [p.order for p in plan.closure] == [0, 1, 2, 3, 4]
    assert plan.closure.index(target.parent()) < plan.closure.index(target)


def test_plan_extra_partials_and_fields():
    u, v = u_(x, t), sp.Function("v")(x, t)
    extra = [Partial("v", (0, 1))]
    plan, rewritten, _ = build_plan([u.diff(x)], coords=(x, t), fields=(u, v), extra=extra)
    assert plan.fields == ("u", "v") and plan.coords == ("x", "t")
    assert Partial("v", (0, 1)) in plan.needed


@pytest.mark.parametrize(
    ("orders", "coords", "label"),
    [
        ((0, 0), ("x", "t"), "u"),
        ((1, 0), ("x", "t"), "u_x"),
        ((2, 1), ("x", "t"), "u_xxt"),
        ((1, 1, 0), ("x", "y", "t"), "u_xy"),
        ((1, 2), ("r", "theta"), "u_r{theta}{theta}"),
    ],
)
def test_partial_labels(orders, coords, label):
    assert Partial("u", orders).label(coords) == label


def test_partial_parent_and_direction():
    u_xxt = Partial("u", (2, 1))
    assert u_xxt.parent() == Partial("u", (1, 1))
    assert u_xxt.direction() == 0
    assert Partial("u", (0, 0)).parent() is None
    with pytest.raises(ValueError, match="bug in pinnkit"):
        Partial("u", (0, 0)).direction()
