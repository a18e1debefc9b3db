"""Models: networks that map coordinates to fields (`FieldModel`: input features and a body),
the networks of Hidden terms, the exact-initial-value wrapper and the Lagrangian two-branch
model. They are built from the specs in `pinnkit.config` by `pinnkit.build`.
"""

from pinnkit.models.field import AbstractModel, FieldModel
from pinnkit.models.hidden import HiddenModule

__all__ = ["AbstractModel", "FieldModel", "HiddenModule"]
