"""The sweep's overall progress display: cells done/running/failed, agent steps/s and ETA.

The numbers come from the run folders, not from the workers directly: each running cell's
``progress.json`` (rewritten atomically by training: ``agent_steps``, ``steps_per_second``) is read
at every tick, so the display works the same whatever executor runs the cells.

On a terminal the display is a live `rich` progress bar (one overall bar and one line per running
cell); when stdout is not a terminal (CI, ``| tee``, ``nohup``) it degrades to plain lines: one per
cell start and end, and a status line every ``interval`` seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rl_coordconv.runfolder import Progress
from rl_coordconv.sweep.spec import Cell
from rl_coordconv.sweep.worker import CellOutcome, CellTask

__all__ = [
    "Snapshot",
    "SweepProgress",
    "PlainProgress",
    "RichProgress",
    "QuietProgress",
    "make_progress",
    "format_duration",
]


def format_duration(seconds: float | None) -> str:
    """Format seconds as ``1h02m``, ``4m05s`` or ``12s``; ``?`` when unknown.

    :param seconds: a duration, or None
    :return: a short human-readable duration
    """
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Snapshot:
    """The sweep's state at one moment.

    :param total: cells in the sweep
    :param done: complete cells (including those complete before this sweep started)
    :param running: cells running now
    :param failed: cells that failed in this sweep
    :param agent_steps_done: agent steps done, over all cells
    :param agent_steps_total: agent steps of the whole sweep
    :param steps_per_second: agent steps per second, summed over the running cells
    :param eta_seconds: remaining agent steps / steps_per_second (None while unknown)
    """

    total: int
    done: int
    running: int
    failed: int
    agent_steps_done: int
    agent_steps_total: int
    steps_per_second: float
    eta_seconds: float | None

    @property
    def pending(self) -> int:
        """Cells not started yet."""
        return self.total - self.done - self.running - self.failed

    def line(self) -> str:
        """One plain status line."""
        pct = 100.0 * self.agent_steps_done / self.agent_steps_total if self.agent_steps_total else 100.0
        return (
            f"cells {self.done}/{self.total} done, {self.running} running, {self.failed} failed | "
            f"{self.agent_steps_done:,}/{self.agent_steps_total:,} agent steps ({pct:.0f}%) | "
            f"{self.steps_per_second:,.0f} agent steps/s | ETA {format_duration(self.eta_seconds)}"
        )


class SweepProgress:
    """Counts cells and agent steps for a display; subclasses show it.

    :param cells: every cell of the sweep
    :param complete_before: cells already complete when the sweep started (skipped)
    :param agent_steps: the budget of one cell, in agent steps
    """

    def __init__(self, cells: Sequence[Cell], complete_before: Sequence[Cell], agent_steps: int) -> None:
        self.total = len(cells)
        self.agent_steps = int(agent_steps)
        self.done = len(complete_before)
        self.failed: list[CellOutcome] = []
        self.interrupted: list[CellOutcome] = []
        self.running: dict[Cell, Path] = {}
        self.started_at = time.monotonic()

    # Monitor protocol ------------------------------------------------------------------------------
    def started(self, task: CellTask) -> None:
        """Count a cell as running.

        :param task: the cell's task
        """
        self.running[task.cell] = Path(task.run_dir)
        self.on_start(task)

    def finished(self, outcome: CellOutcome) -> None:
        """Count a cell as done, failed or interrupted.

        :param outcome: how it ended
        """
        self.running.pop(outcome.cell, None)
        if outcome.status == "complete":
            self.done += 1
        elif outcome.status == "failed":
            self.failed.append(outcome)
        else:
            self.interrupted.append(outcome)
        self.on_finish(outcome)

    def tick(self) -> None:
        """Refresh the display."""
        self.on_tick()

    def close(self) -> None:
        """End the display (print the last state)."""

    # hooks -----------------------------------------------------------------------------------------
    def on_start(self, task: CellTask) -> None:
        """A cell started.

        :param task: the cell's task
        """

    def on_finish(self, outcome: CellOutcome) -> None:
        """A cell ended.

        :param outcome: how it ended
        """

    def on_tick(self) -> None:
        """Refresh."""

    # numbers ---------------------------------------------------------------------------------------
    def running_progress(self) -> dict[Cell, tuple[int, float]]:
        """Each running cell's (agent steps done, agent steps/s) from its ``progress.json``."""
        out = {}
        for cell, run_dir in self.running.items():
            progress = Progress.peek(run_dir)  # None before the run writes one (or for a damaged file)
            steps = progress.agent_steps if progress is not None else 0
            rate = progress.steps_per_second if progress is not None else 0.0
            out[cell] = (min(steps, self.agent_steps), max(rate, 0.0))
        return out

    def snapshot(self, running: dict[Cell, tuple[int, float]] | None = None) -> Snapshot:
        """The current state.

        :param running: the running cells' progress, when already read
        :return: a :class:`Snapshot`
        """
        running = self.running_progress() if running is None else running
        steps_done = self.done * self.agent_steps + sum(steps for steps, _ in running.values())
        steps_total = self.total * self.agent_steps
        rate = sum(r for _, r in running.values())
        running_steps = sum(steps for steps, _ in running.values())
        remaining = max(0, (self.total - self.done - len(self.failed)) * self.agent_steps - running_steps)
        eta = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
        return Snapshot(
            total=self.total,
            done=self.done,
            running=len(self.running),
            failed=len(self.failed),
            agent_steps_done=steps_done,
            agent_steps_total=steps_total,
            steps_per_second=rate,
            eta_seconds=eta,
        )


def _reason(outcome: CellOutcome) -> str:
    """A failure's message without the cell's name in front (the display names the cell already)."""
    prefix = f"{outcome.cell} failed: "
    return outcome.message[len(prefix) :] if outcome.message.startswith(prefix) else outcome.message


class QuietProgress(SweepProgress):
    """Shows nothing (library use, tests)."""


class PlainProgress(SweepProgress):
    """Plain lines for logs and CI: one per cell start/end and a status line every ``interval`` seconds.

    :param stream: where to print (stdout by default)
    :param interval: seconds between status lines
    """

    def __init__(
        self,
        cells: Sequence[Cell],
        complete_before: Sequence[Cell],
        agent_steps: int,
        stream: TextIO | None = None,
        interval: float = 30.0,
    ) -> None:
        super().__init__(cells, complete_before, agent_steps)
        self.stream = stream or sys.stdout
        self.interval = interval
        self._last = time.monotonic()

    def _print(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=self.stream, flush=True)
        self._last_line = text

    def on_start(self, task: CellTask) -> None:
        self._print(f"start  {task.cell}")

    def on_finish(self, outcome: CellOutcome) -> None:
        took = format_duration(outcome.seconds)
        if outcome.status == "complete":
            self._print(f"done   {outcome.cell} in {took}")
        elif outcome.status == "failed":
            self._print(f"FAILED {outcome.cell} after {took}: {_reason(outcome)} (see {outcome.run_dir}/error.txt)")
        else:
            self._print(f"paused {outcome.cell} after {took} (resumable)")
        self._print(self.snapshot().line())
        self._last = time.monotonic()

    def on_tick(self) -> None:
        if time.monotonic() - self._last >= self.interval:
            self._print(self.snapshot().line())
            self._last = time.monotonic()

    def close(self) -> None:
        line = self.snapshot().line()
        if line != getattr(self, "_last_line", None):
            self._print(line)


class RichProgress(SweepProgress):
    """A live `rich` display: the overall bar (cells, agent steps/s, ETA) and one bar per running cell.

    :param stream: the terminal to draw on (stdout by default)
    """

    def __init__(
        self, cells: Sequence[Cell], complete_before: Sequence[Cell], agent_steps: int, stream: TextIO | None = None
    ) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        super().__init__(cells, complete_before, agent_steps)
        self.console = Console(file=stream or sys.stdout)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            refresh_per_second=2,
        )
        self.overall = self.progress.add_task("sweep", total=max(1, self.total * self.agent_steps), info="")
        self.bars: dict[Cell, Any] = {}
        self.progress.start()
        self.on_tick()

    def on_start(self, task: CellTask) -> None:
        self.bars[task.cell] = self.progress.add_task(f"  {task.cell}", total=max(1, self.agent_steps), info="starting")

    def on_finish(self, outcome: CellOutcome) -> None:
        from rich.text import Text

        bar = self.bars.pop(outcome.cell, None)
        if bar is not None:
            self.progress.remove_task(bar)
        took = format_duration(outcome.seconds)
        if outcome.status == "complete":
            self.console.print(f"[green]done[/]   {outcome.cell} in {took}")
        elif outcome.status == "failed":
            self.console.print(Text.assemble(("FAILED", "red"), f" {outcome.cell} after {took}: {_reason(outcome)}"))
        else:
            self.console.print(f"[yellow]paused[/] {outcome.cell} after {took} (resumable)")
        self.on_tick()

    def on_tick(self) -> None:
        running = self.running_progress()
        snap = self.snapshot(running)
        info = (
            f"{snap.done}/{snap.total} done, {snap.running} running, {snap.failed} failed | "
            f"{snap.steps_per_second:,.0f} agent steps/s | ETA {format_duration(snap.eta_seconds)}"
        )
        self.progress.update(self.overall, completed=snap.agent_steps_done, info=info)
        for cell, (steps, rate) in running.items():
            bar = self.bars.get(cell)
            if bar is not None:
                self.progress.update(bar, completed=steps, info=f"{rate:,.0f} agent steps/s" if rate else "starting")

    def close(self) -> None:
        self.on_tick()
        self.progress.stop()


def make_progress(
    kind: str,
    cells: Sequence[Cell],
    complete_before: Sequence[Cell],
    agent_steps: int,
    stream: TextIO | None = None,
) -> SweepProgress:
    """Build the display.

    :param kind: ``auto`` (rich on a terminal, plain lines otherwise), ``rich``, ``plain`` or ``quiet``
    :param cells: every cell of the sweep
    :param complete_before: cells already complete
    :param agent_steps: one cell's budget in agent steps
    :param stream: where to write (stdout by default)
    :return: the display (a :class:`~rl_coordconv.sweep.executors.Monitor`)
    """
    stream = stream or sys.stdout
    if kind == "auto":
        kind = "rich" if getattr(stream, "isatty", lambda: False)() else "plain"
    if kind == "rich":
        return RichProgress(cells, complete_before, agent_steps, stream)
    if kind == "plain":
        return PlainProgress(cells, complete_before, agent_steps, stream)
    if kind == "quiet":
        return QuietProgress(cells, complete_before, agent_steps)
    raise ValueError(f"progress must be 'auto', 'rich', 'plain' or 'quiet', got {kind!r}")
