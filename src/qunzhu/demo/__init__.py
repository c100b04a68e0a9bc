"""The sample community behind ``qunzhu demo``: an AI coding bootcamp with three groups."""

from qunzhu.demo.generate import GROUPS, NAME, generate
from qunzhu.demo.load import load_demo
from qunzhu.demo.records import SLUG

__all__ = ["GROUPS", "NAME", "SLUG", "generate", "load_demo"]
