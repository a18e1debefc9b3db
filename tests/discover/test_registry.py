"""`pinnkit.discover.registry`: backends by name, and the errors for bad names, options and
samples.
"""

from __future__ import annotations

import numpy as np
import pytest

from pinnkit.discover import BACKENDS, Offline, PySR, backend
from pinnkit.errors import ConfigError, DiscoveryError
from tests.discover.terms import u


def test_bad_samples_and_names_raise():
    with pytest.raises(DiscoveryError, match="samples but the target has"):
        Offline().fit({u: np.ones(5)}, np.ones(6))
    with pytest.raises(ConfigError, match="Did you mean `offline`"):
        backend("ofline")
    with pytest.raises(ConfigError, match="no option `max_term`"):
        backend("offline", max_term=3)
    assert set(BACKENDS) == {"offline", "pysr"}
    assert isinstance(backend(), Offline)
    assert backend("pysr", niterations=5) == PySR(niterations=5)
