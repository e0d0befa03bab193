"""Advance instances: load, run the engine, save with an optimistic lock, all in one transaction.

One function per action; the API, the web pages, the scheduler and the CLI
all call these, so no business rule lives in a view.
"""

from bpm.runtime.actors import SYSTEM_ACTOR, Actor, load_actor
from bpm.runtime.runtime import Runtime

__all__ = ["SYSTEM_ACTOR", "Actor", "Runtime", "load_actor"]
