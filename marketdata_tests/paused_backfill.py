"""`python -m marketdata_tests.paused_backfill FOLDER ARGS...`: `marketdata ARGS...` whose stub
history source, on its first fetch, touches FOLDER/fetching and then waits for FOLDER/release
to exist: a backfill paused mid-fetch, inside raw_history, for as long as the test wants."""

import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from marketdata_assets.cli import main
from marketdata_assets.providers.stub.history import StubHistory


def paused(folder: Path) -> None:
    fetch = StubHistory.fetch

    def fetch_then_wait(self: StubHistory, session: date, symbols: Sequence[str]) -> bytes:
        body = fetch(self, session, symbols)
        if not (folder / "fetching").exists():
            (folder / "fetching").touch()
            while not (folder / "release").exists():
                time.sleep(0.02)
        return body

    StubHistory.fetch = fetch_then_wait  # type: ignore[method-assign]


if __name__ == "__main__":
    paused(Path(sys.argv[1]))
    raise SystemExit(main(sys.argv[2:]))
