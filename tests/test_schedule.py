"""The poll schedule: growth in proportion to time waited, bounds, jitter, error backoff."""

import random

import pytest

from imagekit_jobs import Schedule


def test_ceiling_grows_with_elapsed_between_bounds():
    """The ceiling is initial at first, growth x elapsed later, and max at the cap."""
    s = Schedule(initial_interval=1.0, max_interval=60.0, growth=0.15, jitter=0.0)
    assert [s.ceiling(t) for t in (0, 5, 10, 100, 400, 1000)] == [1.0, 1.0, 1.5, 15.0, 60.0, 60.0]


def test_no_jitter_gives_exact_delays():
    """With jitter 0, poll delays are exactly the ceiling."""
    s = Schedule(jitter=0.0)
    rng = random.Random(1)
    assert [s.poll_delay(t, rng) for t in (0, 20, 1000)] == [1.0, 3.0, 60.0]


def test_jitter_stays_random_at_the_cap():
    """At the cap, delays still vary, within [(1 - jitter) x max, max]."""
    s = Schedule(max_interval=60.0, jitter=0.2)
    rng = random.Random(7)
    delays = [s.poll_delay(10_000, rng) for _ in range(200)]
    assert min(delays) >= 48.0
    assert max(delays) <= 60.0
    assert len(set(delays)) == 200


def test_retry_backoff_doubles_up_to_max_interval():
    """Errors in a row double the retry delay, never past max_interval."""
    s = Schedule(initial_interval=1.0, max_interval=20.0, jitter=0.0)
    rng = random.Random(0)
    assert [s.retry_delay(n, None, rng) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 16, 20]


def test_retry_delay_honours_a_longer_hint():
    """A server hint longer than the backoff wins."""
    s = Schedule(jitter=0.0)
    assert s.retry_delay(1, 7.5, random.Random(0)) == 7.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_interval": 0},
        {"initial_interval": 5, "max_interval": 1},
        {"jitter": 1.0},
        {"growth": -1},
    ],
)
def test_invalid_schedules_are_refused(kwargs):
    """Nonsense schedules are a ValueError at construction."""
    with pytest.raises(ValueError, match="must"):
        Schedule(**kwargs)
