"""JobWaiter.wait: schedule, deadline, retries, errors and callbacks, on a fake clock."""

from __future__ import annotations

import logging

import pytest

from imagekit_jobs import (
    ApiUnreachableError,
    AuthenticationError,
    BulkJob,
    JobNotFoundError,
    JobPartialSuccessError,
    JobWaiter,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)

from .conftest import FakeClock, job, scripted

PENDING = job("Pending")
DONE = job("Completed")


def make_waiter(clock: FakeClock, source, **options) -> JobWaiter:
    options.setdefault("jitter", 0.0)
    options.setdefault("request_timeout", 10.0)
    return JobWaiter(source, clock=clock, sleep=clock.sleep, **options)


def test_returns_the_completed_job_after_exact_sleeps(clock):
    """Two pending reads then Completed: three requests, two 1 s sleeps, the job returned."""
    source = scripted(clock, [PENDING, PENDING, DONE])
    result = make_waiter(clock, source).wait("job1")
    assert result == DONE
    assert len(source.calls) == 3
    assert clock.sleeps == [1.0, 1.0]


def test_delays_grow_in_proportion_to_time_waited(clock):
    """Past initial/growth seconds, each delay is growth x elapsed, up to max_interval."""
    source = scripted(clock, [PENDING] * 30 + [DONE])
    make_waiter(clock, source, timeout=None, max_interval=4.0).wait("job1")
    assert clock.sleeps[:8] == [1.0] * 7 + [pytest.approx(1.05)]
    assert clock.sleeps[-1] == 4.0
    assert all(1.0 <= s <= 4.0 for s in clock.sleeps)


def test_deadline_final_poll_just_before_it_then_timeout(clock):
    """The last sleep is shortened so one final poll goes out 50 ms before the deadline."""
    source = scripted(clock, [PENDING])
    start = clock.now
    with pytest.raises(WaitTimeoutError) as info:
        make_waiter(clock, source, timeout=10.0, growth=0.0).wait("job1")
    assert clock.sleeps == [1.0] * 9 + [pytest.approx(0.95)]
    assert len(source.calls) == 11
    assert source.calls[-1][0] == pytest.approx(start + 9.95)
    err = info.value
    assert err.job_id == "job1"
    assert err.last_job == PENDING
    assert err.polls == 11
    assert err.elapsed == pytest.approx(9.95)
    assert type(err) is WaitTimeoutError


def test_slow_server_request_timeouts_are_clamped_to_time_left(clock):
    """Each request's timeout is at most the time left, so the wait ends by the deadline."""
    source = scripted(clock, [PENDING], latency=3.0)
    start = clock.now
    with pytest.raises(WaitTimeoutError):
        make_waiter(clock, source, timeout=10.0, request_timeout=5.0).wait("job1")
    for sent_at, timeout in source.calls:
        assert timeout <= start + 10.0 - sent_at + 1e-9
    assert clock.now - start <= 10.0 + 1e-9


def test_hanging_server_is_cut_at_the_deadline(clock):
    """A server slower than the time left: the clamped request ends at the deadline, no later."""
    source = scripted(clock, [PENDING], latency=1000.0)
    start = clock.now
    with pytest.raises(ApiUnreachableError):
        make_waiter(clock, source, timeout=10.0, request_timeout=30.0).wait("job1")
    assert [t for _, t in source.calls] == [10.0]
    assert clock.now == pytest.approx(start + 10.0)


def test_transient_errors_back_off_then_succeed(clock):
    """5xx, transport and format errors are retried with doubling delays; then success."""
    errors = [
        ServerError("bad gateway", status_code=502),
        TransportError("reset"),
        ResponseFormatError("html", status_code=200),
    ]
    source = scripted(clock, [*errors, DONE])
    assert make_waiter(clock, source).wait("job1") == DONE
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert len(source.calls) == 4


def test_rate_limit_hint_is_honoured(clock):
    """A 429 with a 7.5 s hint makes the next poll wait 7.5 s."""
    limited = RateLimitedError("slow down", status_code=429, retry_after=7.5)
    source = scripted(clock, [limited, DONE])
    assert make_waiter(clock, source).wait("job1") == DONE
    assert clock.sleeps == [7.5]


def test_rate_limit_hint_past_the_deadline_ends_the_wait_at_once(clock):
    """A hint that runs past the deadline: no further poll, timeout raised now."""
    limited = RateLimitedError("slow down", status_code=429, retry_after=60.0)
    source = scripted(clock, [PENDING, limited])
    with pytest.raises(WaitTimeoutError) as info:
        make_waiter(clock, source, timeout=10.0).wait("job1")
    assert len(source.calls) == 2
    assert clock.sleeps == [1.0]
    assert isinstance(info.value.last_error, RateLimitedError)


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad key", status_code=401),
        AuthenticationError("forbidden", status_code=403),
        JobNotFoundError("no such job", status_code=404),
    ],
)
def test_permanent_errors_raise_after_exactly_one_request(clock, error):
    """401, 403 and 404 end the wait at once: one request, no sleep, the same error."""
    source = scripted(clock, [error])
    with pytest.raises(type(error)) as info:
        make_waiter(clock, source).wait("job1")
    assert info.value is error
    assert len(source.calls) == 1
    assert clock.sleeps == []


def test_partial_success_raises_with_the_job(clock):
    """Partial success raises JobPartialSuccessError carrying the job, message and help."""
    partial = job("Partial success", message="purge failed", help="retry the purge")
    source = scripted(clock, [PENDING, partial])
    with pytest.raises(JobPartialSuccessError) as info:
        make_waiter(clock, source).wait("job1")
    assert info.value.job is partial
    assert info.value.message == "purge failed"
    assert info.value.help == "retry the purge"


def test_unknown_status_is_pending_and_logged_once(clock, caplog):
    """An unknown status keeps the wait going and is logged once at WARNING."""
    odd = job("Queued")
    source = scripted(clock, [odd, odd, odd, DONE])
    with caplog.at_level(logging.DEBUG, logger="imagekit_jobs"):
        assert make_waiter(clock, source).wait("job1") == DONE
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "job job1: unknown status 'Queued', treated as still running"
    ]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["job job1: (start) -> Queued", "job job1: Queued -> Completed"]
    debugs = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debugs) == 4


def test_callbacks_receive_exact_events(clock):
    """on_poll, on_status_change and on_retry see every read, change and retry."""
    polls, changes, retries = [], [], []
    source = scripted(clock, [PENDING, ServerError("oops", status_code=503), PENDING, DONE])
    waiter = make_waiter(
        clock,
        source,
        timeout=100.0,
        on_poll=polls.append,
        on_status_change=lambda old, new: changes.append((old, new)),
        on_retry=retries.append,
    )
    waiter.wait("job1")
    assert [(p.attempt, p.job.status, p.next_delay) for p in polls] == [
        (1, "Pending", 1.0),
        (3, "Pending", 1.0),
        (4, "Completed", None),
    ]
    assert [p.elapsed for p in polls] == [0.0, 2.0, 3.0]
    assert [p.time_left for p in polls] == [100.0, 98.0, 97.0]
    assert changes == [(None, PENDING), (PENDING, DONE)]
    assert [(r.attempt, r.error.status_code, r.next_delay) for r in retries] == [(2, 503, 1.0)]


def test_a_raising_callback_stops_the_wait_with_its_exception(clock):
    """An exception from a callback ends the wait and propagates unchanged."""

    class Stop(Exception):
        pass

    def on_poll(event):
        if event.attempt == 2:
            raise Stop

    source = scripted(clock, [PENDING])
    with pytest.raises(Stop):
        make_waiter(clock, source, on_poll=on_poll).wait("job1")
    assert len(source.calls) == 2


def test_no_deadline_waits_as_long_as_it_takes(clock):
    """timeout=None keeps polling until the job completes."""
    source = scripted(clock, [PENDING] * 200 + [DONE])
    assert make_waiter(clock, source, timeout=None).wait("job1") == DONE
    assert len(source.calls) == 201


def test_timeout_zero_is_one_read_with_the_normal_request_timeout(clock):
    """timeout=0: exactly one request, with the normal timeout, then WaitTimeoutError."""
    source = scripted(clock, [PENDING])
    with pytest.raises(WaitTimeoutError) as info:
        make_waiter(clock, source, request_timeout=10.0).wait("job1", timeout=0)
    assert source.calls == [(1000.0, 10.0)]
    assert info.value.polls == 1


def test_timeout_zero_returns_a_finished_job(clock):
    """timeout=0 on a finished job returns it."""
    source = scripted(clock, [DONE])
    assert make_waiter(clock, source).wait("job1", timeout=0) == DONE


def test_deadline_without_any_successful_read_is_api_unreachable(clock):
    """Only transient errors until the deadline: ApiUnreachableError with the last error."""
    source = scripted(clock, [TransportError("refused")])
    with pytest.raises(ApiUnreachableError) as info:
        make_waiter(clock, source, timeout=5.0).wait("job1")
    assert info.value.last_job is None
    assert isinstance(info.value.last_error, TransportError)
    assert info.value.__cause__ is info.value.last_error
    assert clock.sleeps == [1.0, 2.0, pytest.approx(1.95)]


def test_invalid_job_id_sends_nothing(clock):
    """A path-changing id is refused as ValueError before the source is called."""
    source = scripted(clock, [DONE])
    with pytest.raises(ValueError, match="invalid job id"):
        make_waiter(clock, source).wait("../admin")
    assert source.calls == []


def test_jittered_waits_never_overshoot_over_many_seeds():
    """For 200 seeds and random latencies, no wait ends past its deadline."""
    import random

    for seed in range(200):
        clock = FakeClock()
        rnd = random.Random(seed)
        latency = rnd.uniform(0, 3)
        source = scripted(clock, [PENDING], latency=latency)
        timeout = rnd.uniform(1, 120)
        start = clock.now
        with pytest.raises(WaitTimeoutError):
            JobWaiter(source, timeout=timeout, clock=clock, sleep=clock.sleep, seed=seed).wait(
                "job1"
            )
        assert clock.now - start <= timeout + 1e-9
        assert all(isinstance(c[1], float) for c in source.calls)


def test_bulkjob_properties():
    """is_finished and succeeded follow the status."""
    assert (DONE.is_finished, DONE.succeeded) == (True, True)
    assert (PENDING.is_finished, PENDING.succeeded) == (False, False)
    partial = BulkJob(job_id="j", type="RENAME_FOLDER", status="Partial success")
    assert (partial.is_finished, partial.succeeded) == (True, False)
