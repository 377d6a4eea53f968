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


def _probe_table(probe: Sequence[ProbeRow], baseline: Sequence[ProbeRow] | None, name: str) -> str:
    other = {(r.axis, r.shift): r for r in baseline or []}
    header = ["axis", "k (pixels)", f"TV {name}", f"abs. value change {name}"]
    if baseline:
        header += ["TV nature", "abs. value change nature"]
    rows = []
    for r in probe:
        row = [r.axis, r.shift, fmt(r.tv_mean), fmt(r.value_change_mean)]
        if baseline:
            b = other.get((r.axis, r.shift))
            row += [fmt(b.tv_mean if b else None), fmt(b.value_change_mean if b else None)]
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
        rows = []
        for t in inspection.terms:
            ratio = t.ratio
            rows.append(
                [
                    f"`{t.layer}`",
                    t.maps.shape[0],
                    "x".join(map(str, t.input_shape)),
                    "x".join(map(str, t.maps.shape[1:])),
                    fmt(float(np.median(ratio))),
                    fmt(float(np.min(ratio))),
                    fmt(float(np.max(ratio))),
                ]
            )
        parts.append(table(["layer", "filters", "input", "map", "median ratio", "min ratio", "max ratio"], rows))
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
    parts.append(_probe_table(inspection.probe, inspection.baseline_probe, run.extractor))
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
