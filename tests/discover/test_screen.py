"""`pinnkit.discover.screen`: polynomials ranked too low by the samples are screened by a
short refit and judged in full where that rivals the leader's own short refit; and the
offline backend hands them over as `Front.screen`."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from pinnkit.discover import Offline
from pinnkit.discover.alternatives import ALTERNATIVE_DELTA, form
from pinnkit.discover.base import Candidate
from pinnkit.discover.criteria import Scored
from pinnkit.discover.screen import SCREEN_REFIT, screen

u, v = sp.symbols("u v")


@dataclass(frozen=True)
class _Reference:
    observations: int = 100


@dataclass(frozen=True)
class _Judge:
    """Criteria by formula and by refit length; records what it refit (shared log)."""

    criteria: dict
    refit: int = 500
    bounds: dict = field(default_factory=dict)
    log: list = field(default_factory=list)
    reference: _Reference = field(default_factory=_Reference)

    def __call__(self, candidate: Candidate) -> Scored:
        self.log.append((self.refit, candidate.expr))
        value = self.criteria[candidate.expr][self.refit]
        return Scored(candidate, 1.0, 5, candidate.expr, criterion=value)

    def admits(self, s: Scored) -> bool:
        return math.isfinite(s.physics)

    def bound(self, expr, reached=math.inf) -> float:
        return self.bounds.get(expr, -math.inf)

    def round_form(self, fitted):
        return fitted


def _candidate(expr) -> Candidate:
    return Candidate(expr, 5, 1e-4, 0.0)


LEADER = sp.Float(-0.33) * u**3 - sp.Float(0.33) * v + sp.Float(0.3)
TRUTH = sp.Float(1.02) * u - sp.Float(1.0) * u**2 - sp.Float(0.67) * u * v
OTHER = sp.Float(0.9) * u - sp.Float(1.2) * u * v**2
FAR = sp.Float(0.2) * v**3 + sp.Float(0.1)


def test_a_polynomial_ranked_low_by_the_samples_is_promoted_by_its_short_refit():
    # The reaction-diffusion pair of the module docstring, in numbers of its kind: after
    # SCREEN_REFIT iterations the truth is above the leader's full criterion but far below
    # the leader's own short refit; OTHER's short refit is not within ALTERNATIVE_DELTA.
    criteria = {
        LEADER: {SCREEN_REFIT: 100.0, 500: 0.0},
        TRUTH: {SCREEN_REFIT: 16.0, 500: -181.0},
        OTHER: {SCREEN_REFIT: 100.0 + 2 * ALTERNATIVE_DELTA, 500: -5.0},
    }
    log: list = []
    judge = _Judge(criteria, log=log)
    scored = [judge(_candidate(LEADER))]
    judged_in_full = []

    def judge_all(candidates):
        judged_in_full.extend(c.expr for c in candidates)
        return [judge(c) for c in candidates]

    pool = [_candidate(OTHER), _candidate(TRUTH)]
    promoted, more = screen(pool, scored, judge, judge_all)
    assert [c.expr for c in promoted] == [TRUTH] == judged_in_full
    assert [s.criterion for s in more] == [-181.0]
    # The leader was refit briefly once, as the yardstick; each pool member once.
    short = [expr for refit, expr in log if refit == SCREEN_REFIT]
    assert sorted(map(str, short)) == sorted(map(str, [LEADER, OTHER, TRUTH]))


def test_screening_skips_what_cannot_win_and_what_was_judged():
    criteria = {LEADER: {SCREEN_REFIT: 10.0, 500: 0.0}, TRUTH: {SCREEN_REFIT: 9.0, 500: -3.0}}
    log: list = []
    # FAR's form cannot beat the leader whatever its refit; a candidate of the leader's
    # form with other constants was judged already.
    judge = _Judge(criteria, bounds={FAR: 1.0}, log=log)
    scored = [judge(_candidate(LEADER))]
    same_form = LEADER.xreplace({sp.Float(0.3): sp.Float(0.31)})
    pool = [_candidate(FAR), _candidate(same_form), _candidate(TRUTH)]
    promoted, _ = screen(pool, scored, judge, lambda cs: [judge(c) for c in cs])
    assert [c.expr for c in promoted] == [TRUTH]
    assert (SCREEN_REFIT, FAR) not in log and (SCREEN_REFIT, same_form) not in log


def test_no_screening_without_refits_or_without_an_admitted_leader():
    criteria = {LEADER: {0: 0.0, 500: 0.0}, TRUTH: {0: -50.0, 500: -50.0}}
    held = _Judge(criteria, refit=0)
    scored = [held(_candidate(LEADER))]
    assert screen([_candidate(TRUTH)], scored, held, lambda cs: cs) == ([], [])
    judge = _Judge(criteria)
    failed = [dataclasses.replace(scored[0], physics=math.inf)]
    assert screen([_candidate(TRUTH)], failed, judge, lambda cs: cs) == ([], [])


def test_the_offline_backend_hands_over_the_next_polynomials_of_each_size():
    rng = np.random.default_rng(0)
    us, vs = rng.uniform(0.3, 0.8, 2000), rng.uniform(0.15, 0.45, 2000)
    values = us - us**2 - 0.6 * us * vs + 0.01 * np.sin(9 * us + 5 * vs)
    front = Offline().fit({u: us, v: vs}, values)
    judged = {c.expr for c in (*front.candidates, *front.near, *front.subfront)}
    assert 0 < len(front.screen) <= 3 * Offline().screen
    for c in front.screen:
        assert c.expr not in judged and c.score == 0.0
        terms = sp.Add.make_args(form(c.expr))
        assert len(terms) >= 2 and all(not t.has(sp.sin, sp.exp, sp.cos) for t in terms)
    assert Offline(screen=0).fit({u: us, v: vs}, values).screen == ()


def test_a_candidate_the_user_offers_is_judged_though_the_bound_rules_it_out():
    from pinnkit.discover.select import _judge_in_order

    criteria = {LEADER: {500: 0.0}, FAR: {500: 40.0}}
    log: list = []
    judge = _Judge(criteria, bounds={FAR: 1.0}, log=log)
    mine = _candidate(FAR)
    _judge_in_order([_candidate(LEADER), _candidate(FAR)], None, judge)
    assert (500, FAR) not in log  # skipped: its form's price alone exceeds the leader's
    scored = _judge_in_order([_candidate(LEADER), mine], None, judge, always=[mine])
    assert [s.criterion for s in scored] == [0.0, 40.0]
