"""Property-based tests: the schedule, the deadline, hint parsing and id validation."""

from __future__ import annotations

import math
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagekit_jobs import ApiUnreachableError, JobWaiter, Schedule, TransportError, WaitTimeoutError
from imagekit_jobs._hints import MAX_HINT, retry_after_seconds
from imagekit_jobs._validate import check_job_id

from .conftest import FakeClock, job, scripted
from .figures import record

pytestmark = pytest.mark.reliability

schedules = st.builds(
    lambda initial, spread, growth, jitter: Schedule(
        initial_interval=initial, max_interval=initial * spread, growth=growth, jitter=jitter
    ),
    st.floats(0.01, 30),
    st.floats(1, 100),
    st.floats(0, 2),
    st.floats(0, 0.99),
)


@given(schedules, st.floats(0, 1e7), st.integers(0, 2**32 - 1))
def test_poll_delays_stay_within_bounds(schedule, elapsed, seed):
    """Every poll delay is positive and within [(1 - jitter) x floor, max_interval]."""
    delay = schedule.poll_delay(elapsed, random.Random(seed))
    assert 0 < delay <= schedule.max_interval
    assert delay >= (1 - schedule.jitter) * schedule.initial_interval - 1e-12


@given(schedules, st.integers(1, 10_000), st.none() | st.floats(0, MAX_HINT), st.integers(0, 99))
def test_retry_delays_stay_within_bounds(schedule, errors, hint, seed):
    """Retry delays are never negative, never past the cap unless a hint asks for more."""
    delay = schedule.retry_delay(errors, hint, random.Random(seed))
    assert delay > 0
    assert delay <= max(schedule.max_interval, hint or 0)
    if hint is not None:
        assert delay >= hint


@settings(max_examples=150, deadline=None)
@given(
    timeout=st.floats(0.01, 5000),
    latency=st.floats(0, 20),
    initial=st.floats(0.01, 10),
    seed=st.integers(0, 2**16),
    errors=st.lists(st.booleans(), min_size=1, max_size=8),
)
def test_sleeps_and_requests_never_pass_the_deadline(timeout, latency, initial, seed, errors):
    """Whatever the latency, errors and schedule, the wait ends by its deadline."""
    clock = FakeClock()
    steps = [TransportError("x") if e else job("Pending") for e in errors]
    source = scripted(clock, steps, latency=latency)
    start = clock.now
    waiter = JobWaiter(
        source,
        timeout=timeout,
        initial_interval=initial,
        max_interval=max(initial, 60),
        request_timeout=10,
        clock=clock,
        sleep=clock.sleep,
        seed=seed,
    )
    with pytest.raises((WaitTimeoutError, ApiUnreachableError)):
        waiter.wait("job1")
    assert clock.now - start <= timeout + 1e-6
    assert sum(clock.sleeps) <= timeout
    assert all(sent <= start + timeout for sent, _ in source.calls)


_HEADER_VALUES = st.one_of(
    st.text(max_size=60),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Mon, 99 Foo 2020 99:99:99 GMT",
            "1e309",
            "-5",
            "NaN",
            "",
        ]
    ),
)


@settings(max_examples=500)
@given(reset=st.none() | _HEADER_VALUES, after=st.none() | _HEADER_VALUES)
def test_hint_parsing_never_raises_and_is_bounded(reset, after):
    """Any X-RateLimit-Reset / Retry-After: never an exception, always None or 0..MAX_HINT."""
    headers = {}
    if reset is not None:
        headers["X-RateLimit-Reset"] = reset
    if after is not None:
        headers["Retry-After"] = after
    hint = retry_after_seconds(headers)
    assert hint is None or (0 <= hint <= MAX_HINT and not math.isnan(hint))


def test_hint_examples():
    """Exact parses: ms, seconds, a past date, a far-future date, garbage."""
    assert retry_after_seconds({"X-RateLimit-Reset": "2500"}) == 2.5
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}) == 0.0
    assert retry_after_seconds({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}) == MAX_HINT
    now = 1_700_000_000.0
    assert retry_after_seconds(
        {"Retry-After": "Tue, 14 Nov 2023 22:13:30 GMT"}, now=lambda: now
    ) == pytest.approx(10.0)
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"X-RateLimit-Reset": "-100"}) == 0.0


_SAFE = re.compile(r"[A-Za-z0-9_-]{1,128}")


@settings(max_examples=1000)
@given(st.text(max_size=140))
def test_job_id_validation_accepts_exactly_the_safe_alphabet(candidate):
    """An id is accepted if and only if it is 1-128 characters of [A-Za-z0-9_-]."""
    if _SAFE.fullmatch(candidate):
        assert check_job_id(candidate) == candidate
    else:
        with pytest.raises(ValueError, match="job id"):
            check_job_id(candidate)


@given(st.text(alphabet="/.?#% \t\n\x00", min_size=1, max_size=5), st.text("abc", max_size=5))
def test_any_path_character_is_refused(bad, good):
    """A single path-changing character anywhere makes the id invalid."""
    with pytest.raises(ValueError, match="job id"):
        check_job_id(good + bad + good)


def test_record_property_figures():
    """Record how many examples the properties above try (for RELIABILITY.md)."""
    record(
        "property-based",
        schedule_examples=100,
        retry_examples=100,
        deadline_examples=150,
        hint_examples=500,
        job_id_examples=1100,
    )
