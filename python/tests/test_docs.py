"""Every ```python block of docs/python.md runs, and its assertions hold."""

import os
import re

import pytest

_DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "python.md")
_BLOCKS = re.findall(r"^```python\n(.*?)^```", open(_DOC).read(), re.S | re.M)


def test_the_page_has_examples():
    assert len(_BLOCKS) >= 4


@pytest.mark.parametrize("code", _BLOCKS, ids=[f"block{i}" for i in range(len(_BLOCKS))])
def test_doc_example_runs(code):
    exec(compile(code, "docs/python.md", "exec"), {})
