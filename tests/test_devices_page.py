"""The examples of docs/user_guide/devices.rst run and print what the page says (CPU tensors in and out)."""

import doctest
import importlib.util
import warnings
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[1] / "docs" / "user_guide" / "devices.rst"


@pytest.mark.skipif(
    importlib.util.find_spec("torchlogit._data") is None,
    reason="tensors out need the data layer (torchlogit/_data.py, branch s23-data), merged separately",
)
def test_devices_page_examples():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        result = doctest.testfile(
            str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.attempted >= 10 and result.failed == 0
