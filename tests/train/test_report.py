"""Tests of the run report: notes (a large hidden output names a scale)."""

from __future__ import annotations

import warnings

import pytest

import pinnkit as pk
from pinnkit.errors import PinnkitWarning
from tests.helpers import TINY_HIDDEN, small_fisher


def test_a_large_hidden_output_gets_a_note_naming_a_scale():
    from pinnkit.train import Trainer

    def trainer(spec):
        made = Trainer(small_fisher(), TINY_HIDDEN.replace(hidden=spec))
        made._batches()  # draws the interior points the note is measured at
        last = made.compiled.hidden["f"].body[-1]
        last.weight.data.zero_()
        last.bias.data.fill_(30.0)  # the body's output: 30 everywhere
        return made

    plain = trainer(pk.HiddenNet(width=4, depth=1))
    with pytest.warns(PinnkitWarning, match=r'"f" came out 30 in size.*HiddenNet\(scale=30\)'):
        plain._note_large_hidden_terms()
    assert plain.notes and "hidden_terms.f=" in plain.notes[0]
    with pytest.warns(PinnkitWarning):
        plain._note_large_hidden_terms()  # again (trained further): one note per term
    assert len(plain.notes) == 1
    scaled = trainer(pk.HiddenNet(width=4, depth=1, scale=8.0))  # output 240, 30x its scale
    with pytest.warns(
        PinnkitWarning, match=r"came out 240 in size .*, 30x its network's scale 8.*scale=240\)"
    ):
        scaled._note_large_hidden_terms()
    fine = trainer(pk.HiddenNet(width=4, depth=1, scale=8.0))
    fine.compiled.hidden["f"].body[-1].bias.data.fill_(1.0)  # output 8: its scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine._note_large_hidden_terms()
    assert fine.notes == []
    polish_only = Trainer(small_fisher(), TINY_HIDDEN.replace(steps=0))  # as discovery's refits
    polish_only._batches()
    polish_only.compiled.hidden["f"].body[-1].bias.data.fill_(30.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        polish_only._note_large_hidden_terms()
    assert polish_only.notes == []
