"""The batch engine: one set of archive rules for one machine and for a cluster.

* :mod:`.store`: where inputs are read and outputs committed (the local disk, or
  any fsspec location), temporaries named for their owner and removed once it
  is gone, remote inputs spooled into temporaries the engine owns;
* :mod:`.plan`: from what a user names to a task or a record per input (the
  local disk's walk, an fsspec store's listing, the rules both keep);
* :mod:`.records`: the report records, the report writer and the totals;
* :mod:`.executors`: worker processes on one machine, or a Dask cluster, behind
  one protocol;
* :mod:`.run`: the one run loop, plan -> tasks -> executor -> commit -> records
  -> report (resume, dry run, temporaries, signals); :mod:`.journal`: in place.

:mod:`minface.batch` (``minface scrub -j 8``) and :mod:`minface.distributed`
(``minface scrub --dask``) both call :func:`.run.run_plan`, with their own store
and executor; this package imports no image library, so the planning process
stays light.
"""
