"""The start method of the extraction pool: forked from a forkserver, without the main script again.

Pool processes are forked from a forkserver that imported the extractors once
(``PRELOAD``), so a process starts with a fork instead of an interpreter and
its imports.  Python before 3.13 still has every such process run the main
script of the parent again (``archive``, ``python -m archive_portal.cli``,
a benchmark) before it takes its first job: the forkserver's preloading of
``__main__`` has been dead code since 2013 (CPython gh-126631, gh-137996,
fixed in 3.13), so each process re-imports the portal, SQLAlchemy and the
rest, 1.3 s of CPU each on a loaded 2-core machine, more than all the pages
of a 150-letter package take it.  The pool's job and initializer live in
importable modules (``job``), so the processes need no ``__main__`` at all:
the preparation data sent to them leaves it out.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing import context, popen_forkserver, spawn
from typing import Any

# Imported once in the forkserver (module-level imports of these come along; an import inside a
# function is made by each process on first use, so modules the jobs import late are named here).
PRELOAD = ["ingest.extract.job", "ingest.encodings", "ingest.metadata"]

_MAIN_KEYS = ("init_main_from_name", "init_main_from_path")
_launching = threading.Lock()


class _Popen(popen_forkserver.Popen):
    def _launch(self, process_obj: Any) -> None:
        prepare = spawn.get_preparation_data

        def without_main(name: str) -> dict:
            data = prepare(name)
            for key in _MAIN_KEYS:
                data.pop(key, None)
            return data

        with _launching:  # the stdlib looks the function up on its module: swapped for this launch only
            spawn.get_preparation_data = without_main
            try:
                super()._launch(process_obj)  # type: ignore[misc]
            finally:
                spawn.get_preparation_data = prepare


class _Process(context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


class _Context(context.ForkServerContext):
    Process = _Process


_CONTEXT = _Context()


def pool_context() -> multiprocessing.context.BaseContext:
    """The context to give ``ProcessPoolExecutor`` (``mp_context``): forkserver processes, preloaded, no main."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    return _CONTEXT
