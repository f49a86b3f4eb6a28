"""Optional imports fail with the install command."""

from __future__ import annotations

import pytest

from mucode.core.errors import ConfigError
from mucode.core.optional import import_optional


def test_present_module_is_returned():
    assert import_optional("json", "x", "y").dumps([1]) == "[1]"


def test_missing_module_names_the_feature_and_the_command():
    with pytest.raises(ConfigError, match=r"the foo backend needs mucode_nope: pip install foo"):
        import_optional("mucode_nope", "the foo backend", "pip install foo")
