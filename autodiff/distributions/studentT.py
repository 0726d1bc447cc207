"""``torch.distributions.studentT``'s import path; the code is in continuous_extra.py."""  # noqa: N999 (torch's name)

from __future__ import annotations

from .continuous_extra import StudentT

__all__ = ["StudentT"]
