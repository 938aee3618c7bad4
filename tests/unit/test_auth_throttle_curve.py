"""The CNIL delay curve of login throttling, as a pure function."""

from __future__ import annotations

import pytest

from oph.accounts.login_lock import MAX_DELAY_SECONDS, delay_after


@pytest.mark.parametrize("failures", [0, 1, 2, 3, 4])
def test_five_free_failures(failures):
    assert delay_after(failures) == 0


@pytest.mark.parametrize(
    ("failures", "seconds"), [(5, 1), (6, 2), (7, 4), (8, 8), (12, 128), (14, 512), (15, 900), (16, 900), (10_000, 900)]
)
def test_exponential_then_capped_at_15_minutes(failures, seconds):
    assert delay_after(failures) == seconds
    assert MAX_DELAY_SECONDS == 15 * 60
