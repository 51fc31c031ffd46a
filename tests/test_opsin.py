"""OPSIN in a JVM kept running: batches share one process, forked workers use the parent's
JVM, and a batch that times out or comes back out of step ends the JVM instead of pairing
names with the wrong structures. Real Java, real OPSIN."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest

from precursorwatch.errors import ResolverError
from precursorwatch.identify import opsin
from precursorwatch.identify.opsin import OpsinSession, java_available, opsin_batch

pytestmark = pytest.mark.skipif(not java_available(), reason="OPSIN needs Java")

P2P = "1-phenylpropan-2-one"

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def test_batches_share_one_jvm_and_unparsable_names_are_absent() -> None:
    with OpsinSession() as session:
        first = session.parse([P2P, "no such chemical qq", "2-methylpropan-1-ol"])
        pid = session._proc.pid if session._proc else None
        second = session.parse(["propan-2-one", "  benzene\n"])
        assert session._proc is not None and session._proc.pid == pid
    assert first == {P2P: "C1(=CC=CC=C1)CC(C)=O", "2-methylpropan-1-ol": "CC(CO)C"}
    assert second == {"propan-2-one": "CC(C)=O", "benzene": "C1=CC=CC=C1"}
    assert opsin_batch(["ethanol"]) == {"ethanol": "C(C)O"}


def test_a_forked_worker_uses_the_parents_jvm() -> None:
    with OpsinSession() as session:
        session.start()
        pid = session._proc.pid if session._proc else None
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the worker: answers through the parent's JVM, then exits
            try:
                got = session.parse(["toluene"])
                same = session._proc is not None and session._proc.pid == pid
                os.write(write, pickle.dumps((got, same)))
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        got, same = pickle.loads(os.read(read, 65536))
        assert got == {"toluene": "CC1=CC=CC=C1"} and same
        # the parent's next batch reads only its own answers
        assert session.parse(["butan-2-one"]) == {"butan-2-one": "CC(CC)=O"}


def test_forked_workers_share_one_jvm_a_batch_at_a_time() -> None:
    """Two worker processes send batches through the parent's one JVM at the same time: the
    session's lock, shared across the fork, lets one batch through at a time, so each gets its
    own answers and nothing is out of step."""
    # batches of over 4 KiB: the pipe does not keep such writes whole, so without the lock
    # the two workers' names and answers would interleave
    names = {
        0: [f"{i}-methylheptadecane" for i in range(1, 18)]
        + [f"no such chemical a{i}" for i in range(300)],
        1: [f"{i}-ethylnonadecan-{i}-ol" for i in range(1, 20)]
        + [f"no such chemical b{i}" for i in range(300)],
    }
    with OpsinSession() as session:
        session.start()
        pid = session._proc.pid if session._proc else None
        pipes = {n: os.pipe() for n in names}
        children = []
        for n, batch in names.items():
            child = os.fork()
            if child == 0:
                try:
                    got = [session.parse(batch) for _ in range(10)]
                    same = session._proc is not None and session._proc.pid == pid
                    os.write(pipes[n][1], pickle.dumps((got, same)))
                finally:
                    os._exit(0)
            children.append(child)
        for child in children:
            os.waitpid(child, 0)
        answers = {n: pickle.loads(os.read(pipes[n][0], 1 << 20)) for n in names}
    expected = {0: opsin_batch(names[0]), 1: opsin_batch(names[1])}
    for n, (got, same) in answers.items():
        assert same and got == [expected[n]] * 10


def test_a_batch_that_waits_too_long_for_the_jvm_fails_instead_of_hanging() -> None:
    with OpsinSession() as session:
        session._lock.acquire()  # another process's batch, never finished
        try:
            with pytest.raises(ResolverError, match="busy"):
                session.parse(["hexane"], timeout_s=0.2)
        finally:
            session._lock.release()
        assert session.parse(["hexane"]) == {"hexane": "CCCCCC"}


def test_a_timeout_ends_the_jvm_and_the_next_batch_starts_another() -> None:
    names = [f"{i}-chloro-{i}-methylundecane" for i in range(1, 20_000)]
    with OpsinSession() as session:
        with pytest.raises(ResolverError, match="longer than"):
            session.parse(names, timeout_s=0.05)
        assert session.parse(["hexane"]) == {"hexane": "CCCCCC"}


def test_answers_out_of_step_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with OpsinSession() as session:
        monkeypatch.setattr(opsin, "_CONTROL_SMILES", "not what OPSIN answers")
        with pytest.raises(ResolverError, match="out of step"):
            session.parse([P2P])
        assert session._proc is None  # ended, not reused
        monkeypatch.undo()
        assert session.parse([P2P]) == {P2P: "C1(=CC=CC=C1)CC(C)=O"}


def test_a_file_screening_starts_its_jvms_before_reading() -> None:
    # warm_up: a JVM per two workers, running before the first chunk is read (a file of
    # systematic names then finds them loaded), and the same JVMs serve the batches
    import pandas as pd

    from precursorwatch.lists.load import load_bundled
    from precursorwatch.run.screener import Screener
    from precursorwatch.run.workers import can_fork, jvms_for

    screener = Screener(load_bundled(), workers=3)
    screener.warm_up()
    started = [s._proc.pid for s in screener._opsin if s._proc is not None]
    assert len(started) == jvms_for(3) == (2 if can_fork() else 1)
    out = screener.screen_frame(pd.DataFrame({"description": [P2P]}))
    assert out.loc[0, "matched_key"] == "1-phenyl-2-propanone"
    assert [s._proc.pid for s in screener._opsin if s._proc is not None][: len(started)] == started
    for session in screener._opsin:
        session.close()


def test_a_big_file_on_a_store_that_judged_nothing_starts_its_jvms_before_reading(
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing judged yet under these lists and this engine (a fresh store): every description
    of the file is new, so a file of EARLY_JVM_BYTES or more has its JVMs (one per two workers)
    running before its first chunk is begun. A second screening on the same store starts none before
    reading, nor does a small file on a fresh store."""
    from generate import generate

    from precursorwatch.run import service
    from precursorwatch.run.screener import Screener
    from precursorwatch.run.workers import jvms_for
    from precursorwatch.settings import get_settings

    big = tmp_path / "big.csv"
    generate(big, 16_000, seed=3, distinct=300)
    assert big.stat().st_size >= service.EARLY_JVM_BYTES
    small = tmp_path / "small.csv"
    generate(small, 200, seed=3, distinct=50)
    running_at_first_chunk: dict[int, int] = {}
    real_begin = Screener.begin_frame

    def begin(self: Screener, df):  # type: ignore[no-untyped-def]
        running = sum(s._proc is not None for s in self._opsin)
        running_at_first_chunk.setdefault(id(self), running)
        return real_begin(self, df)

    monkeypatch.setattr(Screener, "begin_frame", begin)
    screeners = []
    try:
        for path, db in ((big, "a"), (big, "a"), (small, "b")):
            url = f"sqlite:///{tmp_path}/{db}.sqlite"
            store = service.open_ready_store(get_settings(database_url=url))
            screener = service.make_screener(store, workers=3)
            screeners.append(screener)
            service.screen_file(path, store=store, screener=screener, keep_results=False)
    finally:
        for screener in screeners:
            for session in screener._opsin:
                session.close()
    first, second, small_one = (running_at_first_chunk[id(s)] for s in screeners)
    assert first == jvms_for(3) >= 1
    assert second == 0 and small_one == 0
