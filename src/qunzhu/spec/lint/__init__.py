"""The positioning lint (定位检查): checks a valid spec against the operating method.

Importing this package registers every check; ``lint(spec)`` runs them all.
"""

from __future__ import annotations

from qunzhu.spec.lint import growth, members, moderation, positioning
from qunzhu.spec.lint.core import CHECKS, Check, Finding, Severity, lint

# The check modules register themselves on import; naming them keeps that visible.
CHECK_MODULES = (positioning, moderation, members, growth)

__all__ = ["CHECKS", "CHECK_MODULES", "Check", "Finding", "Severity", "lint"]
