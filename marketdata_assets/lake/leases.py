"""The S3 lock: a lease object per claim, `locks/<claim.key>/lock.json`, judged by the store's
clock alone.

Taking a lease is a conditional put (`If-None-Match: *`); a waiter reads the lease and judges
its age as the store tells it, the response's `Date` minus the object's `Last-Modified` (both
stamped by S3, so a runner whose clock is minutes off judges the same), and how long the lease's
generation (its etag, which every renewal changes) has stayed the same while it watched (a
duration on its own monotonic clock: no absolute time is compared across machines). A lease is
live while both are under the `lease_s` its body declares; a body that declares no finite
`lease_s` in (0, MAX_LEASE_S] (NaN, infinity, text, null, missing, an older lock's
`expires_at`) is no lease and is taken over (`If-Match` on its etag). The holder renews its
lease from a daemon thread every `renew_s` (`If-Match` on its own etag, which a renewal
changes); a renewal answered 412 means another run took it over: logged, and this run no longer
holds it. Release deletes the lease if it is still ours.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import ClientError

from marketdata_assets.lake.aws import describe
from marketdata_assets.lake.locks import (
    POLL_S,
    WAIT_S,
    Claim,
    Remaining,
    busy,
    note_waiting,
    waited_enough,
)
from marketdata_assets.lake.objects import LakeError

LEASE_S = 120.0  # a lease not renewed for this long belongs to a run that died
MAX_LEASE_S = 3600.0  # a body declaring a longer lease is no lease (it would block for hours)
log = logging.getLogger(__name__)


def lease_key(claim: Claim) -> str:
    return f"locks/{claim.key}/lock.json"


class S3Lease:
    """A lease object per claim in `bucket`, taken, renewed and released with conditional
    writes."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        wait_s: float = WAIT_S,
        lease_s: float = LEASE_S,
        renew_s: float | None = None,
        poll_s: float = POLL_S,
    ):
        self.client, self.bucket = client, bucket
        self.wait_s, self.lease_s, self.poll_s = wait_s, lease_s, poll_s
        self.renew_s = lease_s / 3 if renew_s is None else renew_s

    @contextmanager
    def hold(self, claim: Claim, owner: str, remaining_s: Remaining = None) -> Iterator[None]:
        key = lease_key(claim)
        token = uuid.uuid4().hex  # every write of this hold has its own body, so its own etag
        renewal = _Renewal(
            self, key, owner, token, self._acquire(claim, key, owner, token, remaining_s)
        )
        renewal.start()
        try:
            yield
        finally:
            etag = renewal.stop()
            if etag is not None:
                try:
                    self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
                except ClientError as error:  # taken over meanwhile: not ours to delete
                    log.warning(
                        "lock s3://%s/%s not released: %s", self.bucket, key, describe(error)
                    )

    def body(self, owner: str, token: str, renewals: int) -> bytes:
        lease = {"owner": owner, "lease_s": self.lease_s, "token": token, "renewals": renewals}
        return json.dumps(lease).encode()

    def _acquire(
        self, claim: Claim, key: str, owner: str, token: str, remaining_s: Remaining
    ) -> str:
        started, holder = time.monotonic(), "unknown"
        body = self.body(owner, token, 0)
        seen, seen_at = "", started  # the lease generation (etag) last seen, since when
        while True:
            try:
                return self.put(key, body, IfNoneMatch="*")
            except ClientError:  # put raises only a lost race as a ClientError
                pass
            current = self._current(key)
            if current is not None:
                lease, etag, age_s = current
                if holder == "unknown":
                    note_waiting(claim, str(lease.get("owner", "unknown")), self.wait_s)
                holder = str(lease.get("owner", "unknown"))
                if etag != seen:
                    seen, seen_at = etag, time.monotonic()
                unchanged_s = time.monotonic() - seen_at  # not renewed while we watched
                if not max(age_s, unchanged_s) < declared_lease_s(lease):  # its run died
                    try:
                        return self.put(key, body, IfMatch=etag)
                    except ClientError:
                        pass
            stop, out_of_time = waited_enough(started, self.wait_s, remaining_s)
            if stop:
                raise busy(claim, holder, time.monotonic() - started, out_of_time)
            time.sleep(self.poll_s)

    def put(self, key: str, body: bytes, **condition: str) -> str:
        """The new etag; a lost race (412/409) raises the ClientError, anything else a
        LakeError."""
        try:
            answer = self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **condition)
        except ClientError as error:
            if lost_race(error):
                raise
            raise self._fail("PutObject", key, error) from error
        return str(answer["ETag"])

    def _fail(self, operation: str, key: str, error: Exception) -> LakeError:
        return LakeError(f"S3 {operation} s3://{self.bucket}/{key} failed: {describe(error)}")

    def _current(self, key: str) -> tuple[dict[str, Any], str, float] | None:
        """The lease's body, etag and age by the store's clock; None when it is gone."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None  # released meanwhile
            raise self._fail("GetObject", key, error) from error
        try:
            lease = json.loads(answer["Body"].read())
        except ValueError:
            lease = {}
        return (lease if isinstance(lease, dict) else {}), str(answer["ETag"]), store_age_s(answer)


def declared_lease_s(lease: dict[str, Any]) -> float:
    """The lease's own duration; 0 (expired) when the body declares none that is valid."""
    value = lease.get("lease_s")
    if not isinstance(value, int | float) or isinstance(value, bool):  # text, null, missing
        return 0.0
    seconds = float(value)
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_LEASE_S else 0.0


def store_age_s(answer: dict[str, Any]) -> float:
    """How long ago the store wrote the object, by the store's clock: the response's `Date`
    minus the object's `Last-Modified` (whole seconds both). An answer without a Date is
    judged new: the waiter then waits out its own bound, never forever."""
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if not date:
        return 0.0
    return (parsedate_to_datetime(date) - answer["LastModified"]).total_seconds()


def lost_race(error: ClientError) -> bool:
    """Another writer holds the key (412), or wrote it at the same moment (409)."""
    code = error.response.get("Error", {}).get("Code")
    return code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


class _Renewal:
    """Rewrites the lease every `renew_s` while its run holds it."""

    def __init__(self, lease: S3Lease, key: str, owner: str, token: str, etag: str):
        self.lease, self.key, self.owner, self.token = lease, key, owner, token
        self.etag: str | None = etag  # None once lost
        self.renewals = 0
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"renew {key}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> str | None:
        """Stop renewing; the lease's etag if still ours."""
        self._stop.set()
        self._thread.join()
        return self.etag

    def _run(self) -> None:
        while not self._stop.wait(self.lease.renew_s):
            with self._guard:
                if self.etag is None:
                    return
                body = self.lease.body(self.owner, self.token, self.renewals + 1)
                try:
                    self.etag = self.lease.put(self.key, body, IfMatch=self.etag)
                    self.renewals += 1
                except ClientError as error:  # 412: another run took it over
                    log.warning(
                        "lock s3://%s/%s lost: %s; this run no longer holds it",
                        self.lease.bucket,
                        self.key,
                        describe(error),
                    )
                    self.etag = None
                    return
                except LakeError as error:  # the store did not answer: try again next time
                    log.warning(
                        "lock s3://%s/%s not renewed: %s", self.lease.bucket, self.key, error
                    )
