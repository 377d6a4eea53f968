"""Text for the report: CSV and markdown tables, readable numbers, and the "what was run" section.

Pure formatting: no statistics here. Numbers in CSV files keep 10 significant digits (NaN is an empty
cell); numbers in markdown are rounded for reading, and a missing interval reads "n/a".
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rl_coordconv.analysis.load import Run, extractor_order
from rl_coordconv.sweepfolder import SweepFolder
from rl_coordconv.tables import csv_text

__all__ = [
    "ReportSection",
    "SectionMaker",
    "csv_text",
    "number",
    "interval_text",
    "md_table",
    "slug",
    "relative",
    "describe_runs",
]


@dataclass(frozen=True)
class ReportSection:
    """A section of ``report.md`` made outside the analysis (e.g. ``analyze --inspect``'s), and the files it
    wrote into the report folder.

    :param text: its markdown, from its ``## ...`` heading on
    :param files: the files it wrote, relative to the report folder
    """

    text: str
    files: tuple[str, ...] = ()


#: Makes one :class:`ReportSection`, given the report folder and whether to draw figures
#: (:class:`rl_coordconv.inspection.compare.InspectSection` is one).
SectionMaker = Callable[[Path, bool], ReportSection]


def number(value: float | None, digits: int | None = None) -> str:
    """A readable number: ``n/a`` for NaN or None; by default fewer decimals for larger magnitudes.

    :param value: the number
    :param digits: decimals; None picks 0 (>= 1000), 1 (>= 100) or 2
    :return: the text
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if digits is None:
        digits = 0 if abs(value) >= 1000 else 1 if abs(value) >= 100 else 2
    return f"{value:.{digits}f}"


def interval_text(point: float, low: float, high: float, digits: int | None = None) -> str:
    """``point [low, high]``; ``point (CI n/a)`` without an interval; ``n/a`` without a point.

    :param point: the estimate
    :param low: lower end of the interval
    :param high: upper end of the interval
    :param digits: decimals (see :func:`number`)
    :return: the text
    """
    if not math.isfinite(point):
        return "n/a"
    if not math.isfinite(low) or not math.isfinite(high):
        return f"{number(point, digits)} (CI n/a)"
    return f"{number(point, digits)} [{number(low, digits)}, {number(high, digits)}]"


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown (GitHub) table.

    :param header: column titles
    :param rows: cells, each row as long as the header
    :return: the table, ending with a newline
    """

    def esc(cell: object) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def slug(text: str) -> str:
    """A file-name-safe version of ``text``.

    :param text: e.g. a game or algorithm name
    :return: letters, digits, ``_``, ``.`` and ``-`` only
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX separators), or as given when outside it.

    :param path: the path
    :param root: the folder to be relative to
    :return: the text
    """
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _distinct(values: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _yaml_block(data: Any) -> str:
    return f"```yaml\n{yaml.safe_dump(data, sort_keys=True).rstrip()}\n```"


def _wall_text(runs: Sequence[Run]) -> str:
    """Median and total training wall time of the runs that record it (``status.json``)."""
    walls = [r.wall_seconds for r in runs if r.wall_seconds is not None]
    if not walls:
        return "not recorded"
    return (
        f"median {statistics.median(walls) / 60:.1f} min, total {sum(walls) / 3600:.1f} h over {len(walls)} run(s) "
        "(`status.json`; depends on the machine and on what ran beside it)"
    )


def _recorded_text(
    runs: Sequence[Run], key: Callable[[Run], Sequence[str]], noun: str, label: Callable[[str], str], intro: str
) -> str:
    """A table of what the runs' sessions recorded (a commit, a machine), with how many runs each (a run
    whose sessions differ counts under each), and how many runs record nothing."""
    counts: dict[str, int] = {}
    for run in runs:
        for value in key(run):
            counts[value] = counts.get(value, 0) + 1
    unrecorded = sum(not key(r) for r in runs)
    lines = []
    if counts:
        rows = [[label(value), str(n)] for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
        lines.append(intro + "\n\n" + md_table([noun, "runs"], rows))
    if unrecorded:
        lines.append(f"{unrecorded} run(s) record no {noun} (made before rl-coordconv recorded it).")
    return "\n\n".join(lines) if lines else f"No run records its {noun}."


def _code_text(runs: Sequence[Run]) -> str:
    """Which rl-coordconv commits trained the runs, with how many runs each (a resumed run may count twice)."""
    return _recorded_text(
        runs,
        lambda r: r.commits,
        "commit",
        lambda c: (
            "unknown (no git commit found, or a session of an older rl-coordconv)"
            if c == "unknown"
            else f"`{c}`" + (" (with uncommitted changes)" if c.endswith("-dirty") else "")
        ),
        "rl-coordconv commits that trained the runs (`status.json`'s `commits`, else `config.yaml`'s "
        "`commit`; a run resumed under newer code counts under each):",
    )


def _machines_text(runs: Sequence[Run]) -> str:
    """Which computers trained the runs, with how many runs each (a run resumed elsewhere counts under each)."""
    return _recorded_text(
        runs,
        lambda r: r.machines,
        "machine",
        lambda m: "unknown (a session of an older rl-coordconv)" if m == "unknown" else m,
        "Computers that trained the runs (`status.json`'s `machines`, else `config.yaml`'s `machine`; a run "
        "resumed on another counts under each). The same code and seeds give other floating-point results "
        "where the CPU kernels or the GPU differ, so runs of different machines are replicates, not copies.",
    )


def describe_runs(
    runs: Sequence[Run], used: Sequence[Run], root: Path, include_incomplete: bool, headline: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """The opening of ``report.md``: title, the headline score, what was run (games, extractors, seeds,
    budget in agent steps and frames), protocol, software versions, the experiment spec, and the
    incomplete runs.

    :param runs: every run found
    :param used: the runs in the statistics
    :param root: the analysed folder (its ``spec.yaml`` is quoted)
    :param include_incomplete: whether incomplete runs are in the statistics
    :param headline: blocks placed right under the title (the headline score)
    :return: ``(blocks, warnings)``: markdown blocks, and warnings found on the way
    """
    basis = list(used) or list(runs)
    warnings: list[str] = []
    blocks: list[str] = [
        f"# CoordConv vs NatureCNN: analysis of `{root.name or root}`",
        *headline,
        'Written by `rl-coordconv analyze`. Statistics follow Agarwal et al. 2021, "Deep Reinforcement '
        'Learning at the Edge of the Statistical Precipice" (NeurIPS), with their library rliable: seeds are '
        "the unit of replication; aggregates over games carry stratified-bootstrap intervals, numbers of one "
        "game carry t-intervals over its seeds.",
        "## What was run",
    ]
    seeds = sorted({r.seed for r in basis if r.seed is not None})
    budgets = sorted({r.timesteps for r in basis if r.timesteps})
    ratios = sorted({r.frames_per_agent_step for r in basis if r.frames_per_agent_step})
    frames = (lambda b: f" ({b * ratios[0]:,.0f} frames)") if len(ratios) == 1 else (lambda b: "")
    budget_text = ", ".join(f"{b:,} agent steps{frames(b)}" for b in budgets) or "unknown"
    if len(ratios) > 1:
        budget_text += f" (frames per agent step differ between runs: {', '.join(f'{x:g}' for x in ratios)})"
    facts = [
        ["run folders found", f"{len(runs)} ({sum(r.complete for r in runs)} complete)"],
        ["runs in the statistics", str(len(used))],
        ["algorithms", ", ".join(sorted({r.algo for r in basis})) or "none"],
        ["games", ", ".join(sorted({r.game for r in basis})) or "none"],
        ["extractors", ", ".join(extractor_order([r.extractor for r in basis])) or "none"],
        ["seeds", ", ".join(str(x) for x in seeds) or "unknown"],
        ["budget per run", budget_text],
        ["training wall time per run", _wall_text(basis)],
    ]
    blocks.append(md_table(["", "value"], facts))

    blocks.append("### Protocol")
    protocols = _distinct([r.config.get("protocol") for r in basis])
    if len(protocols) == 1 and protocols[0] is not None:
        proto = protocols[0]
        name = proto.get("name", "unnamed") if isinstance(proto, dict) else str(proto)
        blocks.append(f"`{name}`:\n\n{_yaml_block(proto)}")
    elif not protocols or protocols == [None]:
        blocks.append("Not recorded in the runs' config.yaml.")
    else:
        blocks.append("**The runs do not share one protocol:**")
        for proto in protocols:
            n = sum(r.config.get("protocol") == proto for r in basis)
            blocks.append(f"{n} run(s):\n\n{_yaml_block(proto)}")
        warnings.append("the runs do not share one protocol (see report.md)")

    blocks.append("### Software versions")
    versions: list[dict[str, Any]] = [v for r in basis if isinstance(v := r.config.get("versions"), dict)]
    if versions:
        rows = []
        for key in sorted({k for v in versions for k in v}):
            values = _distinct([str(v.get(key, "?")) for v in versions])
            rows.append([key, ", ".join(values) + (" (differ between runs)" if len(values) > 1 else "")])
        blocks.append(md_table(["package", "version"], rows))
    else:
        blocks.append("Not recorded in the runs' config.yaml.")

    blocks.append("### Code")
    blocks.append(_code_text(basis))

    blocks.append("### Machines")
    blocks.append(_machines_text(basis))

    blocks.append("### Experiment spec")
    spec = SweepFolder.at(root).spec
    if spec.is_file():
        text = spec.read_text(encoding="utf-8").rstrip()
        blocks.append(f"`{relative(spec, root)}`:\n\n```yaml\n{text}\n```")
    else:
        blocks.append("No `spec.yaml` in the analysed folder (runs were found by their config.yaml).")

    blocks.append("### Incomplete runs")
    incomplete = [r for r in runs if not r.complete]
    if not incomplete:
        blocks.append("None: every run folder has a complete status.json.")
        return blocks, warnings
    if include_incomplete:
        blocks.append("They are **included** in the statistics and labelled (`--include-incomplete`).")
    else:
        blocks.append(
            "They are **left out** of all statistics and curves "
            "(run `analyze --include-incomplete` to use them, labelled)."
        )
    rows = []
    for r in incomplete:
        reached = f"{r.agent_steps:,}" + (f" / {r.timesteps:,}" if r.timesteps else "")
        state = f"failed: {r.error}" if r.error else "no complete status.json (interrupted or running)"
        rows.append([relative(r.path, root), r.algo, r.game, r.extractor, str(r.seed), reached, state])
    header = ["run folder", "algo", "game", "extractor", "seed", "agent steps reached", "state"]
    blocks.append(md_table(header, rows))
    return blocks, warnings
