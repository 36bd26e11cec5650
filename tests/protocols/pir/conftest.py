"""Fixtures of the PIR tests."""

import pytest
from pir_support import build


@pytest.fixture(scope="module")
def table():
    return build()
