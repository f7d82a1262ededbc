"""A history run's hold on its sessions.

raw_history reads a session's earlier raw and merges the run's fetch into it, and every later
history dataset is rebuilt from that raw: two runs of one session at once would each write what
it read plus its own symbols, and the last writer would drop the other's. So a run holds the
lock of every session it writes, taken (in ascending order: two runs of overlapping batches
never wait for each other in a cycle) before raw_history reads the earlier raw and released
when the run ends. The history job runs every step in one process (`in_process_executor`), as
do the runs of assets picked in the UI, so the hold spans the run.
"""

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date

from dagster import ConfigurableResource, InitResourceContext, ResourceDependency
from pydantic import PrivateAttr

from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.lake.locks import hold_all, session_claim

HISTORY_RUN_RESOURCE = "history_run"


class HistoryRun(ConfigurableResource):
    """The locks of the sessions a history run writes, held until the run ends."""

    lake: ResourceDependency[LakeResource]

    _run_id: str = PrivateAttr(default="")
    _held: ExitStack | None = PrivateAttr(default=None)
    _sessions: frozenset[date] = PrivateAttr(default=frozenset())

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["HistoryRun"]:
        self._run_id = context.run.run_id if context.run else ""
        with ExitStack() as held:  # the locks this run takes are released when it ends
            self._held, self._sessions = held, frozenset()
            try:
                yield self
            finally:
                self._held = None

    def hold(self, sessions: Iterable[date]) -> None:
        """Hold `sessions` for the rest of the run (those not held yet: a run's steps share its
        sessions, so only the first step waits)."""
        wanted = frozenset(sessions) - self._sessions
        if self._held is None or not wanted:
            return
        claims = [session_claim(session) for session in wanted]
        self._held.enter_context(hold_all(self.lake.history_lock(), claims, f"run {self._run_id}"))
        self._sessions |= wanted
