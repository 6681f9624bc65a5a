"""The one server process every session shares: keeping its garbage collector off the
long-lived objects. Imports nothing heavy (the entry point calls it on every run)."""

import gc
import sys
import threading

_lock = threading.Lock()
_modules_frozen = 0  # len(sys.modules) at the last freeze


def freeze_long_lived_objects() -> None:
    """After a run that imported new modules: collect once, then move every object alive
    (the libraries just imported, the catalog) into the collector's permanent generation.

    Python's full collections otherwise rescan those ~175,000 objects: about 0.19 s each,
    every few hundred reruns, and every session waits while one runs (bench/load.md). Objects
    made later are collected as usual (gc.freeze, as the gc module documents it).
    """
    global _modules_frozen
    if len(sys.modules) == _modules_frozen:
        return
    with _lock:
        if len(sys.modules) != _modules_frozen:
            _modules_frozen = len(sys.modules)
            gc.collect()
            gc.freeze()
