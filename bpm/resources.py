"""Where the service's shipped folders are: ``templates/``, ``migrations/``, ``forms/``, ``calendars/``, ``processes/``.

They live at the top of the repository (the project's layout). A checkout and
an editable install read them there; a built wheel carries a copy inside the
package (``bpm/_bundled``, put there by ``setup.py``'s build step), so a
``pip install`` of the wheel runs from any folder.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED = ("templates", "migrations", "forms", "calendars", "processes")
_BUNDLED = Path(__file__).resolve().parent / "_bundled"
_CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """The folder ``name`` (one of ``SHIPPED``): the wheel's copy if there is one, else the checkout's."""
    if name not in SHIPPED:
        raise ValueError(f"{name!r} is not a folder the service ships")
    bundled = _BUNDLED / name
    return bundled if bundled.is_dir() else _CHECKOUT / name
