"""Verdicts are a function of the past, reruns are byte-identical, concurrent runs never mix:
the tick graph end to end on a local lake, and the tick locks on both backends."""

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.definitions import build_definitions, resources_for
from marketdata_assets.defs.io_managers import TickIOManager
from marketdata_assets.defs.tick import TICK_RESOURCE, tick_run_config, tick_tags
from marketdata_assets.execution.tick import run_tick
from marketdata_assets.lake import MINUTE_DATASETS, object_key
from marketdata_assets.lake.leases import S3Lease, lease_key
from marketdata_assets.lake.locks import LocalLock, LockBusy, tick_claim
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_tests.conftest import TICK, good, line

MINUTE = timedelta(minutes=1)


def replay_file(folder: Path, tick: datetime, prices: dict[str, float]) -> str:
    """A raw payload for `tick`: one quote per symbol, five seconds into the minute."""
    stamp = (tick + timedelta(seconds=5)).isoformat()
    path = folder / f"{tick:%H%M}.jsonl"
    path.write_text("".join(line(**good(s, p, event_ts=stamp)) + "\n" for s, p in prices.items()))
    return str(path)


def replay(settings: Settings, folder: Path, tick: datetime, prices: dict[str, float]):
    source = replay_file(folder, tick, prices)
    return run_tick(settings.with_overrides(provider="replay", source=source), tick)


def lake_objects(settings: Settings) -> dict[str, bytes]:
    lake = lake_store(settings)
    return {key: lake.get(key) for dataset in MINUTE_DATASETS for key in lake.keys(f"{dataset}/")}


@pytest.mark.graph
def test_a_rerun_after_later_ticks_keeps_a_quarantined_jump_out(settings, tmp_path) -> None:
    ticks = [TICK + k * MINUTE for k in range(3)]
    replay(settings, tmp_path, ticks[0], {"AAPL": 101.0})
    jumped = replay(settings, tmp_path, ticks[1], {"AAPL": 300.0})
    replay(settings, tmp_path, ticks[2], {"AAPL": 102.0, "MSFT": 400.0})
    before = lake_objects(settings)

    again = replay(settings, tmp_path, ticks[1], {"AAPL": 300.0})

    assert (jumped.validated, jumped.quarantined) == (again.validated, again.quarantined) == (0, 1)
    assert lake_objects(settings) == before
    assert {r.symbol: r.price for r in latest_store(settings).all()} == {
        "AAPL": 102.0,
        "MSFT": 400.0,
    }


# Four ticks with a spike (T1), a wrong-looking level that confirms (T2..T4 with 3 ticks),
# a symbol that skips a tick (MSFT), so reruns meet every kind of reference.
HISTORY = [
    {"AAPL": 100.0, "MSFT": 400.0},
    {"AAPL": 300.0, "MSFT": 401.0},
    {"AAPL": 101.0},
    {"AAPL": 10.0, "MSFT": 402.0},
    {"AAPL": 10.5, "MSFT": 403.0},
    {"AAPL": 10.2, "MSFT": 404.0},
]
TICKS = [TICK + k * MINUTE for k in range(len(HISTORY))]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Settings, Path, dict[str, bytes], list]:
    """The ticks run once in order: the objects and table every rerun must leave."""
    folder = tmp_path_factory.mktemp("history")
    settings = Settings(data_dir=folder / "data")
    summaries = [replay(settings, folder, t, p) for t, p in zip(TICKS, HISTORY, strict=True)]
    return settings, folder, lake_objects(settings), summaries


@pytest.mark.graph
def test_the_history_quarantines_the_spike_and_accepts_the_confirmed_level(history) -> None:
    settings, _, _, summaries = history
    assert [(s.validated, s.quarantined) for s in summaries] == [
        (2, 0),
        (1, 1),  # AAPL 300 is a spike
        (1, 0),
        (1, 1),  # AAPL 10: a new level, first tick
        (1, 1),  # second tick
        (2, 0),  # third tick confirms it
    ]
    assert {r.symbol: r.price for r in latest_store(settings).all()} == {
        "AAPL": 10.2,
        "MSFT": 404.0,
    }


@pytest.mark.graph
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(range(len(TICKS))), count=st.integers(1, len(TICKS)))
def test_rerunning_ticks_in_any_order_after_later_ticks_changes_nothing(
    history, order, count
) -> None:
    settings, folder, objects, _ = history
    table = latest_store(settings).all()
    for k in order[:count]:
        replay(settings, folder, TICKS[k], HISTORY[k])
    assert lake_objects(settings) == objects
    assert latest_store(settings).all() == table


@pytest.mark.graph
def test_a_confirmed_level_shift_is_in_the_check_metadata(settings, tmp_path) -> None:
    from dagster import DagsterInstance

    for k, prices in enumerate([{"X": 0.1}, {"X": 100.0}, {"X": 100.0}]):
        replay(settings, tmp_path, TICK + k * MINUTE, prices)
    tick = TICK + 3 * MINUTE
    source = replay_file(tmp_path, tick, {"X": 100.0})
    job = build_definitions(settings.with_overrides(provider="replay", source=source))
    with DagsterInstance.ephemeral() as instance:
        result = job.resolve_job_def("tick_job").execute_in_process(
            instance=instance, tags=tick_tags(tick)
        )
    (share,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "quarantine_share"
    ]
    assert share.metadata["level_shifts"].value == {"X": {"from": 0.1, "to": 100.0}}
    assert {r.symbol: r.price for r in latest_store(settings).all()} == {"X": 100.0}


@pytest.mark.system
def test_two_processes_ticking_the_same_minute_never_mix_their_objects(tmp_path) -> None:
    """Two CLI runs of one minute with different payloads, started together: every object of
    the minute must come from one run (replaying its raw object reproduces them all)."""
    data = tmp_path / "data"
    tick = "2026-11-25T14:31Z"
    env = {**os.environ, "MARKETDATA_DATA_DIR": str(data)}
    env.pop("DAGSTER_HOME", None)
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "marketdata_assets.cli",
                "tick",
                "--at",
                tick,
                "--json",
                "--symbols",
                ",".join(f"S{i}" for i in range(40)),
                "--fault-rate",
                rate,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rate in ("0", "0.5")
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    summaries = [json.loads(out) for out, _ in outputs]
    assert {s["quarantined"] for s in summaries} != {0}  # the payloads really differ

    landed = Settings(data_dir=data)
    raw = data / object_key("raw", TICK)
    again = Settings(data_dir=tmp_path / "again", provider="replay", source=str(raw))
    run_tick(again, TICK)
    for dataset in MINUTE_DATASETS:
        key = object_key(dataset, TICK)
        assert lake_store(landed).get(key) == lake_store(again).get(key), dataset


class PausingTicks(TickIOManager):
    """The tick's IO manager, except that the first run to write validated_ticks (its gate has
    read its inputs; it holds the tick's lock) stops there until released."""

    def handle_output(self, context, obj) -> None:
        if context.asset_key.path[-1] == "validated_ticks" and not PAUSED.is_set():
            PAUSED.set()
            assert RELEASE.wait(timeout=120), "the paused run was never released"  # hang guard
        super().handle_output(context, obj)


PAUSED, RELEASE = threading.Event(), threading.Event()


@pytest.mark.graph
def test_a_run_overtaking_a_paused_run_of_its_tick_waits_for_it(tmp_path, monkeypatch) -> None:
    """Run A pauses half way; run B of the same minute, with another payload, starts. A goes on
    only once B is stuck on the tick's lock, or (without a lock) has finished inside A's pause:
    with the lock, B waits for A, so the minute's objects are all B's."""
    import fcntl

    from dagster import DagsterInstance, Definitions

    from marketdata_assets.defs.schedules import tick_job

    data = tmp_path / "data"
    PAUSED.clear()
    RELEASE.clear()
    stuck = threading.Event()  # B found the tick's lock taken, or B finished
    flock = fcntl.flock

    def noting_flock(handle: object, operation: int) -> None:
        try:
            flock(handle, operation)
        except BlockingIOError:
            stuck.set()
            raise

    monkeypatch.setattr(fcntl, "flock", noting_flock)
    failures: list[BaseException] = []

    def run(fault_rate: float) -> None:
        try:
            settings = Settings(data_dir=data, fault_rate=fault_rate)
            defs, resources = build_definitions(settings), resources_for(settings)
            ticks = PausingTicks(lake=resources["lake"], tick_run=resources[TICK_RESOURCE])
            job = Definitions(
                assets=list(defs.assets or []),
                asset_checks=list(defs.asset_checks or []),
                jobs=[tick_job],
                resources={**resources, "tick_io_manager": ticks},
            ).resolve_job_def("tick_job")
            with DagsterInstance.ephemeral() as instance:
                assert job.execute_in_process(
                    run_config=tick_run_config(TICK), instance=instance, tags=tick_tags(TICK)
                ).success
        except BaseException as error:  # a run that fails must fail the test, not vanish
            failures.append(error)
        finally:
            stuck.set()

    first = threading.Thread(target=run, args=(0.0,))
    first.start()
    assert PAUSED.wait(timeout=120), failures
    second = threading.Thread(target=run, args=(0.6,))
    second.start()
    assert stuck.wait(timeout=120)
    RELEASE.set()
    first.join()
    second.join()
    assert failures == []

    raw = data / object_key("raw", TICK)
    again = Settings(data_dir=tmp_path / "again", provider="replay", source=str(raw))
    run_tick(again, TICK)
    assert run_tick(again, TICK).quarantined > 0  # B's payload: A's had no faults
    for dataset in MINUTE_DATASETS:
        key = object_key(dataset, TICK)
        assert (data / key).read_bytes() == lake_store(again).get(key), dataset


@pytest.mark.domain
def test_a_local_tick_lock_makes_a_second_holder_wait(tmp_path) -> None:
    first, second = LocalLock(tmp_path, wait_s=0.3), LocalLock(tmp_path, wait_s=5)
    order: list[str] = []
    with first.hold(CLAIM, "run a"):
        busy = pytest.raises(LockBusy, match=r"tick 2026-11-25T14:31Z: another run \(run a\)")
        with busy, LocalLock(tmp_path, wait_s=0.3).hold(CLAIM, "run b"):
            pass
        waiter = threading.Thread(target=lambda: _hold_and_note(second, order))
        waiter.start()
        order.append("a done")
    waiter.join()
    assert order == ["a done", "b held"]


CLAIM = tick_claim(TICK)


def _hold_and_note(lock: LocalLock, order: list[str]) -> None:
    with lock.hold(CLAIM, "run b"):
        order.append("b held")


@pytest.mark.domain
def test_an_s3_tick_lock_waits_takes_over_a_dead_lease_and_releases(
    aws_settings, store_clock
) -> None:
    s3 = store_clock.s3()
    lock = S3Lease(s3, "lake", wait_s=0.3, lease_s=60)
    key = lease_key(CLAIM)
    assert key == "locks/date=2026-11-25/minute=1431/lock.json"
    with lock.hold(CLAIM, "run a"):
        lease = json.loads(s3.get_object(Bucket="lake", Key=key)["Body"].read())
        assert (lease["owner"], lease["lease_s"]) == ("run a", 60)
        with pytest.raises(LockBusy, match=r"another run \(run a\)"), lock.hold(CLAIM, "run b"):
            pass
    assert "Contents" not in s3.list_objects_v2(Bucket="lake", Prefix="locks/")

    dead = S3Lease(s3, "lake", lease_s=60, renew_s=3600)  # never renews before it "dies"
    held = dead.hold(CLAIM, "run that dies")
    held.__enter__()  # never released: its process died
    store_clock.advance(61)
    with lock.hold(CLAIM, "run c"):
        lease = json.loads(s3.get_object(Bucket="lake", Key=key)["Body"].read())
        assert lease["owner"] == "run c"
        held.__exit__(None, None, None)  # the dead run's release must not free run c's lock
        assert s3.list_objects_v2(Bucket="lake", Prefix="locks/")["KeyCount"] == 1
    assert "Contents" not in s3.list_objects_v2(Bucket="lake", Prefix="locks/")


@pytest.mark.graph
def test_latest_prices_is_labelled_with_its_store(settings, aws_settings) -> None:
    def kinds(profile: Settings) -> set[str]:
        spec = build_definitions(profile).resolve_assets_def("latest_prices").specs
        return set(next(iter(spec)).kinds)

    assert (kinds(settings), kinds(aws_settings)) == ({"sqlite"}, {"dynamodb"})


@pytest.mark.graph
def test_a_tick_waits_for_its_lock_only_within_the_invocations_time(tmp_path) -> None:
    """A Lambda tick whose minute another run holds stops waiting when its invocation is out of
    time (one line naming the tick), instead of waiting the lock's 120 s inside 50."""
    import time

    from marketdata_assets.execution.tick import TickFailed
    from marketdata_assets.operations.time_budget import MARGIN_S

    plain = Settings(data_dir=tmp_path / "data")
    ends_ms = int(time.time() * 1000 + MARGIN_S * 1000)  # nothing left beyond the margin
    with LocalLock(plain.data_dir).hold(CLAIM, "run a"):
        refused = pytest.raises(
            TickFailed, match=r"tick 2026-11-25T14:31Z: another run \(run a\) holds it \(the "
            "invocation's time ran out\\)",
        )  # fmt: skip
        with refused:
            run_tick(plain, TICK, deadline_ms=ends_ms)
    assert not (plain.data_dir / object_key("raw", TICK)).exists()  # nothing written
