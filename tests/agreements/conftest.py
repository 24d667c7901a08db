from __future__ import annotations

import pytest

from trellis.agreements import services


@pytest.fixture
def agreement(people):
    """Alex and Sam's agreement, opened by Alex: nothing agreed yet (version 0)."""
    opened = services.agreement_for(people.alex)
    assert opened is not None and opened.version == 0
    return opened
