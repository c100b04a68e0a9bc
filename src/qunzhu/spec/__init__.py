"""The community spec ``community.yaml`` (社群定位): schema, loader, positioning lint and
the commented template that ``qunzhu spec init`` writes."""

from __future__ import annotations

from qunzhu.spec.lint import Finding, lint
from qunzhu.spec.loader import load_spec
from qunzhu.spec.problems import SpecError, SpecProblem
from qunzhu.spec.schema import CommunitySpec
from qunzhu.spec.template import template

__all__ = [
    "CommunitySpec",
    "Finding",
    "SpecError",
    "SpecProblem",
    "lint",
    "load_spec",
    "template",
]
