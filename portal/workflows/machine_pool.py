"""Reusable python-statemachine instances, one per thread, re-pointed at each fire's stored state.

Building an instance costs far more than firing one event: the library resolves every
callback of every state and transition per instance (about 40 look-ups for the municipal
workflow), and its first event warms further per-instance caches. So instances are kept
and re-pointed at the case's state through their model object (`state_field`), which
restores a machine without firing enter callbacks.

Two facts bound the reuse:
- an instance that entered a final state has stopped and refuses every later event, so it
  is dropped and the next fire builds a new one;
- an instance is not thread-safe, so each thread borrows its own. A borrowed instance is
  out of the pool until it is returned, so a nested fire on the same thread builds another
  instead of disturbing it, and one that failed in an unforeseen way is never returned.
"""

import threading
from dataclasses import dataclass
from typing import Any

from statemachine import StateChart
from statemachine.exceptions import TransitionNotAllowed

from portal.workflows.errors import TransitionRefused

# Refusals are the expected ways for an event to fail; the library restores the
# configuration and empties its queues before they reach us, so the instance stays usable.
_CLEAN_FAILURES = (TransitionRefused, TransitionNotAllowed)


@dataclass
class _Cursor:
    """The model object a machine reads and writes its state on."""

    state: str


@dataclass
class _Idle:
    machine: StateChart[_Cursor]
    cursor: _Cursor


class MachinePool:
    """Sends events to instances of one machine class, each started from a given state."""

    def __init__(self, machine_class: type[StateChart[Any]]) -> None:
        self.machine_class = machine_class
        self._local = threading.local()

    def send(self, state: str, event: str, **kwargs: Any) -> str:
        """Fire `event` from `state` and return the state the machine ends in.

        `state` must be one the machine declares; exceptions from the machine propagate.
        """
        idle: _Idle | None = getattr(self._local, "idle", None)
        self._local.idle = None
        if idle is None:
            cursor = _Cursor(state=state)
            idle = _Idle(machine=self.machine_class(model=cursor), cursor=cursor)
        else:
            idle.cursor.state = state
        try:
            idle.machine.send(event, **kwargs)
        except _CLEAN_FAILURES:
            self._local.idle = idle
            raise
        target = idle.cursor.state
        if not idle.machine.is_terminated:
            self._local.idle = idle
        return target
