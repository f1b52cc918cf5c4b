"""Change notifications: a list of callbacks per event, and models whose fields announce changes.

Much like napari's ``EventedModel``: assigning a declared field to a different value calls
every callback of ``model.changed`` with ``(model, name, value)``. A UI connects its Qt
signals here; when a widget writes a value back it holds :meth:`Event.blocked` so the
change does not come back to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

log = logging.getLogger(__name__)


class Event:
    """Callbacks called in connection order; one failing callback does not stop the others
    (the first error is raised once all were called)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked: list[Callable[..., Any] | None] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        if None in self._blocked:
            return
        error: Exception | None = None
        for callback in list(self._callbacks):
            if callback in self._blocked:
                continue
            try:
                callback(*args)
            except Exception as exc:
                log.exception("event callback %r failed", callback)
                error = error or exc
        if error is not None:
            raise error

    @contextmanager
    def blocked(self, callback: Callable[..., Any] | None = None) -> Iterator[None]:
        """No callbacks (or not ``callback``) while inside: a widget's own write-back."""
        self._blocked.append(callback)
        try:
            yield
        finally:
            self._blocked.remove(callback)

    def __len__(self) -> int:
        return len(self._callbacks)


class EventedModel:
    """Fields listed in ``FIELDS`` announce changes through ``self.changed``."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "changed", Event())

    changed: Event

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.FIELDS:
            old = self.__dict__.get(name, _MISSING)
            object.__setattr__(self, name, value)
            if old is not _MISSING and not _same(old, value):
                self.changed.emit(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def update(self, **values: Any) -> None:
        """Set several fields; each one that changed is announced once."""
        for name, value in values.items():
            if name not in self.FIELDS:
                raise AttributeError(f"{type(self).__name__} has no field {name!r}")
            setattr(self, name, value)


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - numpy arrays and the like: compare by identity
        return a is b
