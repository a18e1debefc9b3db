"""Tests of `LossTerms`: the total adds terms by their weights."""

from __future__ import annotations

import pytest
import torch


def test_loss_total_adds_terms_by_their_weights():
    from pinnkit.train.terms import LossTerms

    eq = torch.tensor(0.3, requires_grad=True)
    terms = LossTerms(
        {"eq": eq, "ic": torch.tensor(0.5), "bc": torch.tensor(float("nan"))},
        {"ic": 2.0, "bc": 0.0},
    )
    total = terms.total()
    assert total.item() == pytest.approx(0.3 + 2 * 0.5)  # the NaN term has weight 0
    total.backward()
    assert eq.grad.item() == 1.0
    assert LossTerms({"eq": eq}, {"eq": 0.0}).total().item() == 0.0
