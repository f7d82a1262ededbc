"""The S3 lease judged by the store's clock, never the runner's: a skewed runner cannot take a
live lease, a lease that declares no valid duration is taken over, a holder's renewals keep its
lease alive past its duration, and the wait ends within the invocation's remaining time. The
store's clock is moto's, moved by the test (`store_clock`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from marketdata_assets.lake.leases import S3Lease, lease_key
from marketdata_assets.lake.locks import LockBusy, hold_all, session_claim

SESSION = session_claim(date(2026, 11, 20))
KEY = lease_key(SESSION)


def _owner(s3: Any) -> str:
    return str(json.loads(s3.get_object(Bucket="lake", Key=KEY)["Body"].read())["owner"])


def _ticks(n: int) -> Callable[[], float]:
    """An invocation's remaining time that lasts `n` looks, then is gone."""
    looks = iter(range(n, -1, -1))
    return lambda: float(next(looks, 0))


@pytest.mark.domain
def test_a_runner_three_minutes_ahead_cannot_take_a_live_lease(
    aws_settings, store_clock, monkeypatch
) -> None:
    s3 = store_clock.s3()
    with S3Lease(s3, "lake", lease_s=60).hold(SESSION, "run a"):
        store_clock.advance(30)  # half the lease gone by the store's clock
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 180)  # this runner is 180 s ahead
        named = r"history session 2026-11-20: another run \(run a\)"
        refused = pytest.raises(LockBusy, match=named)
        with refused, S3Lease(s3, "lake", wait_s=0.5, lease_s=60).hold(SESSION, "run b"):
            pass
        assert _owner(s3) == "run a"
    store_clock.advance(31)  # the same lease, unrenewed and past 60 s by the store, is dead
    s3.put_object(Bucket="lake", Key=KEY, Body=json.dumps({"owner": "dead", "lease_s": 60}))
    store_clock.advance(61)
    with S3Lease(s3, "lake", wait_s=5, lease_s=60).hold(SESSION, "run b"):
        assert _owner(s3) == "run b"


@pytest.mark.domain
@pytest.mark.parametrize(
    "lease",
    [
        {"owner": "odd", "expires_at": float("nan")},
        {"owner": "odd", "expires_at": float("inf")},
        {"owner": "odd", "expires_at": float("-inf")},
        {"owner": "odd", "expires_at": "soon"},
        {"owner": "odd", "expires_at": None},
        {"owner": "odd"},
        {"owner": "odd", "lease_s": float("nan")},
        {"owner": "odd", "lease_s": float("inf")},
        {"owner": "odd", "lease_s": "soon"},
        {"owner": "odd", "lease_s": None},
        {"owner": "odd", "lease_s": -5},
        {"owner": "odd", "lease_s": 1e12},
        {"owner": "odd", "lease_s": True},
        ["not", "a", "lease"],
    ],
    ids=repr,
)
def test_a_lease_without_a_valid_duration_is_expired_and_taken_over(
    aws_settings, store_clock, lease
) -> None:
    s3 = store_clock.s3()
    body = json.dumps(lease)  # NaN and infinities as Python's json writes them
    s3.put_object(Bucket="lake", Key=KEY, Body=body.encode())
    # no time passes on the store: only the body decides, and a bad one must not block
    with S3Lease(s3, "lake", wait_s=30, lease_s=60).hold(SESSION, "run b", _ticks(3)):
        assert _owner(s3) == "run b"
    assert s3.list_objects_v2(Bucket="lake", Prefix="locks/")["KeyCount"] == 0


@pytest.mark.domain
def test_a_garbled_lease_body_is_taken_over(aws_settings, store_clock) -> None:
    s3 = store_clock.s3()
    s3.put_object(Bucket="lake", Key=KEY, Body=b"\xff{not json")
    with S3Lease(s3, "lake", wait_s=30).hold(SESSION, "run b", _ticks(3)):
        assert _owner(s3) == "run b"


class _Counting:
    """An S3 client that counts the renewals (puts conditioned on an etag) it forwards."""

    def __init__(self, client: Any):
        self.client, self.renewals, self.refused = client, 0, 0
        self.renewed = threading.Condition()

    def put_object(self, **request: Any) -> Any:
        try:
            answer = self.client.put_object(**request)
        except Exception:
            if "IfMatch" in request:
                with self.renewed:
                    self.refused += 1
                    self.renewed.notify_all()
            raise
        if "IfMatch" in request:
            with self.renewed:
                self.renewals += 1
                self.renewed.notify_all()
        return answer

    def wait_for(self, count: int, refused: int = 0) -> None:
        with self.renewed:
            done = lambda: self.renewals >= count and self.refused >= refused  # noqa: E731
            assert self.renewed.wait_for(done, timeout=60)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.mark.domain
def test_renewals_keep_a_lease_alive_past_its_duration(aws_settings, store_clock) -> None:
    s3 = store_clock.s3()
    counting = _Counting(s3)
    with S3Lease(counting, "lake", lease_s=60, renew_s=0.02).hold(SESSION, "run a"):
        for _ in range(3):  # 150 s of store time in all, the lease renewed within each step
            seen = counting.renewals
            store_clock.advance(50)
            counting.wait_for(seen + 2)  # a renewal begun after the clock moved has ended
        assert counting.renewals >= 6
        waiter = S3Lease(s3, "lake", wait_s=30, lease_s=60)
        refused = pytest.raises(LockBusy, match=r"another run \(run a\)")
        with refused, waiter.hold(SESSION, "run b", _ticks(5)):
            pass
        assert _owner(s3) == "run a"
    assert s3.list_objects_v2(Bucket="lake", Prefix="locks/")["KeyCount"] == 0


@pytest.mark.domain
def test_a_lease_not_renewed_is_taken_over_by_the_stores_clock(aws_settings, store_clock) -> None:
    s3 = store_clock.s3()
    stalled = S3Lease(s3, "lake", lease_s=60, renew_s=3600)  # its holder stopped renewing
    held = stalled.hold(SESSION, "run a")
    held.__enter__()
    store_clock.advance(59)
    with pytest.raises(LockBusy), S3Lease(s3, "lake", wait_s=30).hold(SESSION, "b", _ticks(2)):
        pass
    store_clock.advance(2)
    with S3Lease(s3, "lake", wait_s=30).hold(SESSION, "run b", _ticks(2)):
        assert _owner(s3) == "run b"
        held.__exit__(None, None, None)  # the stalled holder's release leaves run b's lease
        assert _owner(s3) == "run b"


@pytest.mark.domain
def test_the_wait_ends_within_the_invocations_remaining_time(aws_settings, store_clock) -> None:
    s3 = store_clock.s3()
    with S3Lease(s3, "lake", lease_s=60).hold(SESSION, "run a"):
        waiter = S3Lease(s3, "lake", wait_s=120, lease_s=60)  # would wait 120 s unbounded
        refused = pytest.raises(LockBusy, match="the invocation's time ran out")
        with refused, waiter.hold(SESSION, "run b", _ticks(3)):
            pass
        assert _owner(s3) == "run a"


@pytest.mark.domain
def test_a_lost_renewal_means_the_holder_no_longer_holds(aws_settings, store_clock) -> None:
    s3 = store_clock.s3()
    counting = _Counting(s3)
    with S3Lease(counting, "lake", lease_s=60, renew_s=0.02).hold(SESSION, "run a"):
        counting.wait_for(1)
        s3.put_object(Bucket="lake", Key=KEY, Body=json.dumps({"owner": "x", "lease_s": 60}))
        counting.wait_for(1, refused=1)  # the next renewal is refused (412): lost
        assert _owner(s3) == "x"
    assert _owner(s3) == "x"  # not ours to release


@pytest.mark.domain
def test_sessions_are_held_in_ascending_order(aws_settings, store_clock) -> None:
    s3, order = store_clock.s3(), []
    claims = [session_claim(date(2026, 11, day)) for day in (20, 18, 19)]

    class Noting(S3Lease):
        def put(self, key: str, body: bytes, **condition: str) -> str:
            if "IfNoneMatch" in condition:
                order.append(key)
            return super().put(key, body, **condition)

    with hold_all(Noting(s3, "lake"), claims, "run a"):
        assert s3.list_objects_v2(Bucket="lake", Prefix="locks/")["KeyCount"] == 3
    assert order == sorted(order) and len(order) == 3
