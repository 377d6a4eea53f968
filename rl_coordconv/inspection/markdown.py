"""``inspect.md``: an inspection's results in words, tables and links to its figures."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rl_coordconv.inspection.probe import ProbeRow

if TYPE_CHECKING:
    from rl_coordconv.inspection.run import Inspection

__all__ = ["inspection_markdown", "table", "fmt"]


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table: ``digits`` significant digits, ``-`` for None or NaN.

    :param value: the number
    :param digits: significant digits
    :return: the text
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.{digits}g}"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table.

    :param header: column titles
    :param rows: the cells
    :return: the table, ending with a newline
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _probe_table(
    probe: Sequence[ProbeRow],
    baseline: Sequence[ProbeRow] | None,
    name: str,
    untrained: Sequence[ProbeRow] | None = None,
) -> str:
    """The probe per axis and k: this run (trained, then untrained when given), then the matching nature run."""
    columns = [(name, probe)]
    if untrained is not None:
        columns.append((f"{name} untrained", untrained))
    if baseline:
        columns.append(("nature", baseline))
    header = ["axis", "k (pixels)"]
    header += [f"TV {label}" for label, _ in columns] + [f"abs. value change {label}" for label, _ in columns]
    found = [{(r.axis, r.shift): r for r in rows} for _, rows in columns]
    body = []
    for r in probe:
        matched = [f.get((r.axis, r.shift)) for f in found]
        body.append(
            [r.axis, r.shift]
            + [fmt(m.tv_mean if m else None) for m in matched]
            + [fmt(m.value_change_mean if m else None) for m in matched]
        )
    return table(header, body)


def _untrained_note(inspection: Inspection) -> str:
    """What the untrained reference is, in one paragraph (or that it was not asked for)."""
    reference = inspection.untrained
    if reference is None:
        return "No untrained reference was asked for.\n"
    if reference.coord_init is None:
        init = ""
    elif reference.coord_init == "zeros":
        init = (
            ", CoordConv weights initialised `coord_init='zeros'` as the run recorded: its coordinate weights "
            "start at 0, so its coordinate term is exactly 0"
        )
    else:
        init = (
            f", CoordConv weights initialised `coord_init={reference.coord_init!r}` as the run recorded (image "
            "and coordinate weights drawn together; a `config.yaml` without `coord_init` predates the option "
            "and means this)"
        )
    return (
        "Beside each number stands the same number of the *untrained* network of this run: the model as "
        f"training built it before the first update (same extractor, hyperparameters and training seed "
        f"{reference.seed}{init}), measured on the same frames, so the difference is what training changed.\n"
    )


def _terms_table(inspection: Inspection) -> str:
    """Per CoordConv layer: the ratio's median, min and max, and the medians of its two parts, each
    trained and (when measured) untrained; the number of filters whose ratio grew in training."""
    fresh = {t.layer: t for t in (inspection.untrained.terms if inspection.untrained is not None else [])}
    header = ["layer", "filters", "input", "map", "median ratio", "min ratio", "max ratio"]
    if fresh:
        header += ["median ratio untrained", "filters whose ratio grew"]
        header += ["median coord RMS (untrained)", "median image RMS (untrained)"]
    rows = []
    for t in inspection.terms:
        ratio = t.ratio
        row: list[object] = [
            f"`{t.layer}`",
            t.maps.shape[0],
            "x".join(map(str, t.input_shape)),
            "x".join(map(str, t.maps.shape[1:])),
            fmt(float(np.median(ratio))),
            fmt(float(np.min(ratio))),
            fmt(float(np.max(ratio))),
        ]
        u = fresh.get(t.layer)
        if fresh and u is None:
            row += ["-"] * 4
        elif u is not None:
            row += [
                fmt(float(np.median(u.ratio))),
                f"{int(np.sum(ratio > u.ratio))} of {len(ratio)}",
                f"{fmt(float(np.median(t.coord_rms)))} ({fmt(float(np.median(u.coord_rms)))})",
                f"{fmt(float(np.median(t.image_rms)))} ({fmt(float(np.median(u.image_rms)))})",
            ]
        rows.append(row)
    return table(header, rows)


def inspection_markdown(inspection: Inspection, files: Collection[str]) -> str:
    """The text of ``inspect.md``.

    :param inspection: the computed inspection (with its GIF recorded when ``game.gif`` is in ``files``)
    :param files: names of the files written beside it
    :return: markdown
    """
    run, frames = inspection.run, inspection.frames
    scores = ", ".join(f"{s:g}" for s in frames.scores)
    parts = [
        f"# Inspection of {run.path.name}\n\n",
        f"{run.algo.upper()} on {run.game} with the `{run.extractor}` extractor, seed {run.seed}. Everything below is "
        f"measured on {len(frames.observations)} observations sampled evenly from {len(frames.scores)} whole "
        f"game(s) of {run.game} played by this policy ({frames.agent_steps} agent steps, whole-game scores "
        f"{scores}; games seeded {frames.seed}).\n",
        "\n",
        _untrained_note(inspection),
        "\n## Coordinate terms\n\n",
    ]
    if not inspection.terms:
        parts.append(f"No coordinate channels: the `{run.extractor}` extractor has no CoordConv layer.\n")
    else:
        parts.append(
            "Each CoordConv filter adds conv(coords, W_c) + b to its image term conv(frames, W_x): a fixed map, "
            "the position-dependent bias it learned (one heat map per filter, one colour scale per layer). "
            "The ratio is the root mean square over positions of conv(coords, W_c) over that of conv(frames, "
            "W_x) on the frames above: near 0, the filter ignores where it is; near 1 or more, position "
            "weighs as much as the image. Per filter: `coord_terms.csv`; maps: `coord_terms.npz`.\n\n"
        )
        parts.append(_terms_table(inspection))
        for t in inspection.terms:
            name = f"coord_maps_{''.join(c if c.isalnum() else '_' for c in t.layer)}.png"
            if name in files:
                parts.append(f"\n![coordinate term of {t.layer}]({name})\n")
        if "coord_ratio.png" in files:
            parts.append("\n![ratio histogram](coord_ratio.png)\n")
    parts.append("\n## Translation probe\n\n")
    baseline_note = (
        f" The matching `nature` run of this sweep (`{inspection.baseline.path.name}`, same algorithm, game, seed "
        "and budget) is probed on the same frames."
        if inspection.baseline is not None
        else " No matching `nature` run was found beside this run."
    )
    parts.append(
        "Every frame of each observation is shifted by k pixels (both directions, averaged; the pixels that "
        "come into view repeat the edge), and the policy's action distribution and value are compared with "
        "those on the unshifted observation: mean total-variation distance (0: same distribution, 1: "
        f"disjoint) and mean absolute value change.{baseline_note} Table: `probe.csv`.\n\n"
    )
    untrained_probe = inspection.untrained.probe if inspection.untrained is not None else None
    parts.append(_probe_table(inspection.probe, inspection.baseline_probe, run.extractor, untrained_probe))
    parts.append("\n![translation probe](probe.png)\n")
    parts.append("\n## Saliency\n\n")
    if "saliency.png" in files:
        parts.append(
            "Where the action logits are most sensitive: perturbation saliency (Greydanus et al. 2018, "
            "arXiv:1711.00138), the change of the logits when the frames are blurred around each point, on "
            f"{len(inspection.saliency_indices)} evenly spaced frames (newest frame of each stack shown). "
            "Arrays: `saliency.npz`.\n\n![saliency](saliency.png)\n"
        )
    else:
        parts.append("No saliency frames were asked for.\n")
    if "game.gif" in files:
        parts.append(
            f"\n## One game\n\nOne whole game played by this policy: score {fmt(inspection.gif_score, 6)} "
            f"(whole-game, unclipped; {inspection.gif_images} images, one per agent step).\n\n![one game](game.gif)\n"
        )
    return "".join(parts)
