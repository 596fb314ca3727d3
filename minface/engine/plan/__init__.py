"""The plan: from the files, folders and URLs a user names to the work to do, one task or one record per input.

:func:`plan` walks the local disk (the single-machine batch, :mod:`.local`); :func:`plan_store`
walks any fsspec store (the Dask path, :mod:`.store`). Both keep the rules of :mod:`.rules`:
they mirror the inputs' tree below their common folder (:func:`mirror`), leave out
minface's own files (:func:`is_ours`), apply ``--include``/``--exclude`` (:class:`Filter`)
and send videos where :func:`route_other` says.
"""

from ..records import error_entry, skip_record
from .local import Plan, _walk, plan
from .rules import (
    JOURNAL_NAME,
    VIDEO_MISSING,
    VIDEO_SUFFIX,
    Filter,
    StoreTask,
    Task,
    _ours,
    is_ours,
    mirror,
    route_other,
    video_output,
)
from .store import plan_store

__all__ = [
    "Task", "Plan", "Filter", "plan", "plan_store", "mirror", "is_ours", "JOURNAL_NAME", "skip_record",
    "error_entry", "route_other", "VIDEO_SUFFIX", "VIDEO_MISSING", "StoreTask", "video_output", "_ours", "_walk",
]
