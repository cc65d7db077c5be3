"""Shared settings: hypothesis keeps its database in the workspace's target/ folder."""

import os

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

settings.register_profile(
    "rtmix",
    database=DirectoryBasedExampleDatabase(os.path.join(_ROOT, "target", "hypothesis")),
    deadline=None,
)
settings.load_profile("rtmix")
