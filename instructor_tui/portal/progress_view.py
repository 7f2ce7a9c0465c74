"""The headless sync's progress bar (rich), for `instructor-tui sync` and `instructor-tui demo`.

Rich is fine here: this is the command line, not the Textual UI, which shows progress in its status
bar from the same `on_progress(done, total, phase)` callback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from instructor_tui.portal.messages import phase_label
from instructor_tui.portal.sync import ProgressCallback


@contextmanager
def rich_progress(console: Console | None = None) -> Iterator[ProgressCallback]:
    """A progress bar on stderr, live for the block; yields the callback to give `run_sync`.

    When stderr is not a terminal (CI, a pipe), rich prints nothing animated.
    """
    console = console or Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(phase_label("schemes"), total=None)

        def on_progress(done: int, total: int | None, phase: str) -> None:
            if phase == "done" and total is None:
                total = done
            bar.update(task, completed=done, total=total, description=phase_label(phase))

        yield on_progress
