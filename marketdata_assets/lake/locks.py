"""One run at a time per tick: two runs of the same minute (a Lambda redelivery overlapping a
CLI run) would otherwise interleave their objects. A run holds its tick's lock while it writes.

Locally the lock is an exclusive `flock` on a file under the lake's `.locks/` folder, released
by the kernel when its process dies. On S3 it is a lease object written with a conditional put
(`If-None-Match: *`); a lease left by a run that died is taken over once it expires.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from marketdata_assets.lake.aws import describe
from marketdata_assets.lake.objects import LakeError
from marketdata_assets.market.ticks import format_tick

WAIT_S = 120.0  # how long a run waits for another run of its tick
LEASE_S = 120.0  # an S3 lease older than this belongs to a run that died (Lambda timeout: 50 s)
POLL_S = 0.2
log = logging.getLogger(__name__)


class TickBusy(RuntimeError):
    """Another run held the tick for longer than a run waits."""


class TickLock(Protocol):
    def hold(self, tick: datetime, owner: str) -> Any:
        """A context manager holding `tick` for `owner` (a run id)."""
        ...


def _busy(tick: datetime, wait_s: float, holder: str) -> TickBusy:
    return TickBusy(
        f"tick {format_tick(tick)}: another run ({holder}) has held it for {wait_s:g} s; "
        "this run stopped before writing anything"
    )


class LocalTickLock:
    """`flock` on `<root>/.locks/minute=HHMM.lock`: one file per minute of the day, so the folder
    stays small (two days' runs of the same minute wait for each other, briefly and harmlessly)."""

    def __init__(self, root: Path | str, wait_s: float = WAIT_S):
        self.folder = Path(root) / ".locks"
        self.wait_s = wait_s

    @contextmanager
    def hold(self, tick: datetime, owner: str) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"minute={tick.astimezone(UTC):%H%M}.lock"
        with open(path, "a+") as handle:
            deadline = time.monotonic() + self.wait_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise _busy(tick, self.wait_s, "another process") from None
                    time.sleep(POLL_S)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def lock_key(tick: datetime) -> str:
    tick = tick.astimezone(UTC)
    return f"locks/date={tick:%Y-%m-%d}/minute={tick:%H%M}/lock.json"


class S3TickLock:
    """A lease object per tick, taken with a conditional put and deleted (if still ours) after."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        wait_s: float = WAIT_S,
        lease_s: float = LEASE_S,
        clock: Callable[[], float] = time.time,
    ):
        self.client, self.bucket = client, bucket
        self.wait_s, self.lease_s, self.clock = wait_s, lease_s, clock

    @contextmanager
    def hold(self, tick: datetime, owner: str) -> Iterator[None]:
        key = lock_key(tick)
        etag = self._acquire(tick, key, owner)
        try:
            yield
        finally:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
            except ClientError as error:  # taken over after our lease expired: not ours to delete
                log.warning(
                    "tick lock s3://%s/%s not released: %s", self.bucket, key, describe(error)
                )

    def _acquire(self, tick: datetime, key: str, owner: str) -> str:
        deadline = time.monotonic() + self.wait_s
        holder = "unknown"
        while True:
            body = json.dumps({"owner": owner, "expires_at": self.clock() + self.lease_s}).encode()
            try:
                return str(self._put(key, body, IfNoneMatch="*")["ETag"])
            except ClientError:  # _put raises only a lost race as a ClientError
                pass
            current = self._current(key)
            if current is not None:
                lease, etag = current
                holder = str(lease.get("owner", "unknown"))
                if float(lease.get("expires_at", 0)) < self.clock():  # its run died: take over
                    try:
                        return str(self._put(key, body, IfMatch=etag)["ETag"])
                    except ClientError:
                        pass
            if time.monotonic() > deadline:
                raise _busy(tick, self.wait_s, holder)
            time.sleep(POLL_S)

    def _fail(self, operation: str, key: str, error: Exception) -> LakeError:
        return LakeError(f"S3 {operation} s3://{self.bucket}/{key} failed: {describe(error)}")

    def _put(self, key: str, body: bytes, **condition: str) -> Any:
        try:
            return self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **condition)
        except ClientError as error:
            if _lost_race(error):
                raise
            raise self._fail("PutObject", key, error) from error

    def _current(self, key: str) -> tuple[dict[str, Any], str] | None:
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
        return (lease if isinstance(lease, dict) else {}), str(answer["ETag"])


def _lost_race(error: ClientError) -> bool:
    """Another writer holds the key (412), or wrote it at the same moment (409)."""
    code = error.response.get("Error", {}).get("Code")
    return code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
