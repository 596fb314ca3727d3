"""The run loop alone (engine/run.py), with a store and executors made for the test: no model, no Dask.

The archive matrix (test_engine_matrix.py) runs the real paths; this checks the loop's own
rules quickly: the plan's records first, one record per task, skips, dry run, temporaries
removed before and after the work (whose writer the executor says is gone, too), interrupts.
"""

from __future__ import annotations

import io
import json
import os
import signal
from dataclasses import dataclass

import pytest
from conftest import dead_temporary

from minface._temp import Owner, temporary_name, temporary_owner, this_process
from minface.engine.executors import Executor
from minface.engine.records import BatchSummary, ReportWriter
from minface.engine.run import run_plan
from minface.engine.store import LocalStore


@dataclass(frozen=True)
class T:
    input: str
    output: str
    root: str | None = None

    def outputs(self) -> tuple[str, ...]:
        return (self.output,)


class Copy(Executor):
    """Commits each input's bytes upper-cased; ``stop_after``: Ctrl-C after that many files."""

    def __init__(self, store: LocalStore, gone: set[Owner] = frozenset(), stop_after: int | None = None) -> None:
        self.store, self.gone_owners, self.stop_after = store, set(gone), stop_after
        self.ran: list[str] = []
        self.asked: list[str] = []
        self.cleaned = False

    def run(self, units, finish) -> None:
        for unit in units:
            for t in unit:
                if self.stop_after is not None and len(self.ran) == self.stop_after:
                    raise KeyboardInterrupt
                self.store.commit(t.output, self.store.read(t.input).upper())
                self.ran.append(os.path.basename(t.input))
                finish({"input": t.input, "output": t.output, "status": "ok", "error": None}, t)

    def gone(self, temporaries):
        self.asked = sorted(os.path.basename(p) for p, _, _ in temporaries)
        return {o for p, _, _ in temporaries if (o := temporary_owner(os.path.basename(p))) in self.gone_owners}

    def clean(self) -> None:
        self.cleaned = True


def _run(tmp_path, tasks, executor, **kw):
    report = io.StringIO()
    store = LocalStore()
    summary = run_plan(
        tasks, kw.pop("records", []), inputs=store, outputs=store, root=str(tmp_path / "out"),
        executor_for=lambda todo: executor, summary=BatchSummary(), writer=ReportWriter(report), **kw,
    )
    return summary, [json.loads(line) for line in report.getvalue().splitlines()]


def _tasks(tmp_path, n):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    tasks = []
    for i in range(n):
        (tmp_path / "in" / f"{i}.txt").write_bytes(b"file %d" % i)
        tasks.append(T(str(tmp_path / "in" / f"{i}.txt"), str(tmp_path / "out" / f"{i}.txt"), str(tmp_path / "out")))
    return tasks


def test_records_first_then_one_per_task_and_existing_outputs_skipped(tmp_path):
    tasks = _tasks(tmp_path, 3)
    (tmp_path / "out" / "1.txt").write_bytes(b"done before")
    planned = [{"input": "notes.md", "output": None, "status": "skipped", "error": None, "reason": "not an image"}]
    ex = Copy(LocalStore())
    summary, recs = _run(tmp_path, tasks, ex, records=planned)
    assert recs[0]["input"] == "notes.md" and len(recs) == 4
    assert [r["reason"] for r in recs if r["status"] == "skipped"] == ["not an image", "output exists"]
    assert ex.run and ex.ran == ["0.txt", "2.txt"] and (summary.ok, summary.skipped) == (2, 2)
    assert (tmp_path / "out" / "1.txt").read_bytes() == b"done before"  # never rewritten
    assert (tmp_path / "out" / "2.txt").read_bytes() == b"FILE 2" and ex.cleaned

    ex = Copy(LocalStore())
    summary, recs = _run(tmp_path, tasks, ex, overwrite=True)
    assert ex.ran == ["0.txt", "1.txt", "2.txt"] and (tmp_path / "out" / "1.txt").read_bytes() == b"FILE 1"


def test_dry_run_lists_and_does_nothing(tmp_path):
    tasks = _tasks(tmp_path, 2)
    stale = tmp_path / "out" / dead_temporary("0.txt")
    stale.write_bytes(b"half")
    ex = Copy(LocalStore())
    summary, recs = _run(tmp_path, tasks, ex, dry_run=True)
    assert [r["reason"] for r in recs] == ["dry run", "dry run"] and not ex.ran and summary.skipped == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [stale.name], "a dry run removes nothing either"


def test_temporaries_of_gone_writers_removed_those_of_live_ones_kept(tmp_path):
    tasks = _tasks(tmp_path, 2)
    out = tmp_path / "out"
    dead = out / dead_temporary("0.txt")  # its owner is gone here: removed before the work
    dead.write_bytes(b"half")
    me = this_process()
    elsewhere = Owner("0badcafe", 4242, 1)  # on a worker's machine: only the executor can say it is gone
    remote = out / temporary_name("1.txt", elsewhere)
    remote.write_bytes(b"half")
    alive = out / temporary_name("1.txt", Owner("0badcafe", 4343, 1))
    alive.write_bytes(b"half")
    unrelated = out / temporary_name("not-planned.txt", Owner(me.host, me.pid, me.start + 1))
    unrelated.write_bytes(b"half")
    ex = Copy(LocalStore(), gone={elsewhere})
    summary, recs = _run(tmp_path, tasks, ex)
    left = sorted(p.name for p in out.iterdir())
    assert left == sorted(["0.txt", "1.txt", alive.name, unrelated.name]), left
    assert summary.temporaries_removed == 2 and remote.name in ex.asked


def test_an_interrupt_keeps_what_is_done_and_says_which_signal(tmp_path):
    tasks = _tasks(tmp_path, 3)
    ex = Copy(LocalStore(), stop_after=1)
    summary, recs = _run(tmp_path, tasks, ex)
    assert summary.interrupted and summary.signal == signal.SIGINT and summary.exit_code == 130
    assert [r["status"] for r in recs] == ["ok"] and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.txt"]
    assert ex.cleaned, "the clean-up after the work runs after an interrupt too"


def test_the_executor_is_made_only_when_there_is_work(tmp_path):
    tasks = _tasks(tmp_path, 1)
    (tmp_path / "out" / "0.txt").write_bytes(b"done")
    report = io.StringIO()
    store = LocalStore()

    def never(todo):
        pytest.fail("no executor (no cluster) for a run with nothing to do")

    summary = run_plan(tasks, [], inputs=store, outputs=store, root=str(tmp_path / "out"), executor_for=never,
                       summary=BatchSummary(), writer=ReportWriter(report))
    assert summary.skipped == 1 and summary.exit_code == 0
