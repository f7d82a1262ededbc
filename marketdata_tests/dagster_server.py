"""The real Dagster webserver on the workspace, for tests: one way to start and stop it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from marketdata_tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def dagster_webserver(home: Path, data_dir: Path | None = None) -> Iterator[str]:
    """`dagster-webserver -w workspace.yaml` on a free loopback port over the instance in `home`
    and the lake in `data_dir` (default `home/data`): its base URL; stopped afterwards."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MARKETDATA_DATA_DIR": str(data_dir or home / "data"),
    }
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # readiness poll, not a performance limit
            if server.poll() is not None:
                assert server.stderr is not None
                raise RuntimeError(f"webserver exited: {server.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a parent that ignores SIGTERM passes that on
            server.kill()
            server.wait()
