"""What holding a lock costs: taking and releasing a tick's or a session's lock, and one
renewal of an S3 lease, beside a plain put of the same bytes (the baseline), on moto's
in-process S3 and on the local flock. `python bench/locks.py [--quick]`."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date


def _ms(action: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        action()
    return (time.perf_counter() - started) / n * 1000


def main(quick: bool) -> None:
    import boto3
    from moto import mock_aws

    from marketdata_assets.lake.leases import S3Lease, lease_key
    from marketdata_assets.lake.locks import LocalLock, session_claim

    n = 50 if quick else 500
    claim = session_claim(date(2026, 11, 20))
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        os.environ[name] = value
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        lease = S3Lease(s3, "lake", renew_s=3600)
        body = lease.body("bench", "token", 0)
        plain = _ms(lambda: s3.put_object(Bucket="lake", Key="plain", Body=body), n)

        def take_and_release() -> None:
            with lease.hold(claim, "bench"):
                pass

        held = _ms(take_and_release, n)
        etag = [lease.put(lease_key(claim), body)]

        def renew() -> None:
            etag[0] = lease.put(lease_key(claim), body, IfMatch=etag[0])

        renewal = _ms(renew, n)
    with tempfile.TemporaryDirectory() as folder:
        local = LocalLock(folder)

        def flock() -> None:
            with local.hold(claim, "bench"):
                pass

        flocked = _ms(flock, n)
    print(f"locks ({n} each): plain S3 put {plain:.2f} ms (baseline)")
    print(f"  S3 lease take + release {held:.2f} ms ({held / plain:.1f}x a put)")
    print(f"  S3 lease renewal {renewal:.2f} ms ({renewal / plain:.1f}x a put), every lease_s/3")
    print(f"  local flock take + release {flocked:.3f} ms ({flocked / plain:.2f}x an S3 put)")


if __name__ == "__main__":
    main("--quick" in sys.argv)
