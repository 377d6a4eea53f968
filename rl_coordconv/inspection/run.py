"""Inspect one trained run: compute everything (:func:`compute_inspection`), then write ``RUN_DIR/inspect/``.

``rl-coordconv inspect RUN_DIR`` calls :func:`inspect_run`. The folder it writes::

    inspect.md            what follows, tied together with captions
    summary.json          the numbers in one file (what ``analyze --inspect`` reads)
    coord_terms.csv       one row per CoordConv filter: coord_rms, coord_span, bias, image_rms, ratio, and the
                          same filter's untrained_coord_rms, untrained_image_rms, untrained_ratio
    coord_terms.npz       each CoordConv layer's maps, (filters, H_out, W_out), keyed by layer name (the
                          untrained network's under ``untrained.<layer>``)
    coord_maps_<layer>.png  one heat map per filter, one shared colour scale per layer
    coord_ratio.png       histogram of the per-filter ratios
    probe.csv             the translation probe, per policy, axis and shift k
    probe.png             the probe against k: this run, its untrained network, the matching nature run
    saliency.npz          the saliency frames (S, C, H, W), their maps (S, H, W) and their indices
    saliency.png          each frame beside its saliency
    game.gif              one whole game played by the policy

The coordinate files are absent for an extractor without CoordConv layers (``nature``); inspect.md says so.
Beside every number of the trained policy stands the same number of the *untrained* network of the same
seed (:mod:`~rl_coordconv.inspection.untrained`: the model as training built it at agent step 0, with the
CoordConv initialisation the run recorded), measured on the same frames, so a reader sees what training
changed.
Everything is written into a temporary folder that replaces ``inspect/`` at the end, so a reader never
sees half an inspection. Games are seeded from the run's evaluation seed: the same call writes the same
numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_coordconv import checks, runfolder
from rl_coordconv.analysis import load
from rl_coordconv.inspection.coord_terms import CoordTerm, coordinate_terms
from rl_coordconv.inspection.probe import SHIFTS, ProbeRow, translation_probe
from rl_coordconv.inspection.saliency import perturbation_saliency
from rl_coordconv.inspection.source import (
    Frames,
    RunSource,
    derived_seed,
    evenly_spaced,
    load_policy_model,
    matching_run,
    open_run,
    play_frames,
    protocol_of,
)
from rl_coordconv.inspection.untrained import Untrained, measure_untrained
from rl_coordconv.tables import csv_text, shortest_with_nan

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

__all__ = ["INSPECT_DIR", "SUMMARY", "Inspection", "compute_inspection", "inspect_run", "write_inspection"]

#: The inspection's folder inside a run folder.
INSPECT_DIR = runfolder.INSPECT_DIR
#: The file ``analyze --inspect`` reads.
SUMMARY = runfolder.INSPECT_SUMMARY
#: The extractor the probe compares with: the analysis' baseline.
BASELINE = load.BASELINE

COORD_COLUMNS = (
    "layer",
    "filter",
    "coord_rms",
    "coord_span",
    "bias",
    "image_rms",
    "ratio",
    "untrained_coord_rms",
    "untrained_image_rms",
    "untrained_ratio",
)
#: The ``policy`` of the untrained reference's rows in ``probe.csv``.
UNTRAINED_POLICY = "untrained (same seed)"
PROBE_COLUMNS = (
    "policy",
    "extractor",
    "axis",
    "shift",
    "tv_mean",
    "tv_median",
    "value_change_mean",
    "value_change_median",
    "frames",
)


@dataclass
class Inspection:
    """What :func:`compute_inspection` found (and, after :func:`write_inspection`, where it is).

    :param run: the inspected run
    :param frames: the frames of its own game everything is measured on
    :param terms: one entry per CoordConv layer (empty for ``nature``)
    :param probe: the translation probe of this run's policy
    :param baseline: the matching ``nature`` run of the same sweep folder, if any
    :param baseline_probe: that run's policy probed on the SAME frames (paired), if any
    :param saliency_indices: which frames have a saliency map, shape ``(S,)``
    :param saliency: their maps, shape ``(S, H, W)``
    :param out: the folder written (None until written)
    :param gif_score: whole-game score of the recorded game (None until written)
    :param gif_images: images in the GIF
    :param model: the run's loaded model (None when not kept)
    :param untrained: the same measurements on the run's untrained network (None when not asked for)
    """

    run: RunSource
    frames: Frames
    terms: list[CoordTerm]
    probe: list[ProbeRow]
    baseline: RunSource | None
    baseline_probe: list[ProbeRow] | None
    saliency_indices: np.ndarray
    saliency: np.ndarray
    out: Path | None = None
    gif_score: float | None = None
    gif_images: int = 0
    model: OnPolicyAlgorithm | None = field(default=None, repr=False)
    untrained: Untrained | None = None

    def median_ratio(self) -> float | None:
        """Median over every CoordConv filter of coord_rms / image_rms (None without CoordConv layers)."""
        if not self.terms:
            return None
        return float(np.median(np.concatenate([t.ratio for t in self.terms])))


def compute_inspection(
    run_dir: str | os.PathLike[str],
    games: int = 1,
    *,
    max_frames: int = 256,
    saliency_frames: int = 4,
    shifts: Sequence[int] = SHIFTS,
    compare: bool = True,
    untrained: bool = True,
    device: str = "cpu",
) -> Inspection:
    """Compute a run's inspection without writing anything.

    :param run_dir: a complete run folder
    :param games: whole games of the run's game its policy plays for the frames (at least 1)
    :param max_frames: frames kept from those games at most, evenly spaced
    :param saliency_frames: frames with a saliency map (evenly spaced among the kept frames)
    :param shifts: the probe's shifts k in pixels
    :param compare: also probe the matching ``nature`` run of the same sweep folder, if it has one
    :param untrained: also measure the run's untrained network of the same seed on the same frames
        (:func:`~rl_coordconv.inspection.untrained.measure_untrained`)
    :param device: torch device
    :return: the results
    :raises UserError: for a folder that is no complete run, or a bad count
    """
    games = checks.whole(games, "the number of games (--games)", 1)
    max_frames = checks.whole(max_frames, "the number of frames (--frames)", 1)
    saliency_frames = checks.whole(saliency_frames, "saliency_frames", 0)
    device = checks.torch_device(device)
    run = open_run(run_dir)
    model = load_policy_model(run, device)
    policy = model.policy
    frames = play_frames(model, run, games, seed=derived_seed(run, 0), max_frames=max_frames)
    observations = frames.observations
    terms = coordinate_terms(policy, observations)
    probe = translation_probe(policy, observations, shifts)
    baseline = matching_run(run, BASELINE) if compare else None
    baseline_probe = None
    if baseline is not None:
        baseline_probe = translation_probe(load_policy_model(baseline, device).policy, observations, shifts)
    count = min(saliency_frames, len(observations))
    indices = np.array(evenly_spaced(len(observations), count), dtype=int) if count else np.zeros(0, dtype=int)
    saliency = perturbation_saliency(policy, observations[indices]) if count else np.zeros((0, *observations.shape[2:]))
    reference = measure_untrained(run, observations, shifts, device) if untrained else None
    return Inspection(
        run, frames, terms, probe, baseline, baseline_probe, indices, saliency, model=model, untrained=reference
    )


def inspect_run(
    run_dir: str | os.PathLike[str],
    games: int = 1,
    *,
    max_frames: int = 256,
    saliency_frames: int = 4,
    shifts: Sequence[int] = SHIFTS,
    compare: bool = True,
    untrained: bool = True,
    gif: bool = True,
    device: str = "cpu",
) -> Inspection:
    """Inspect a trained run and write ``RUN_DIR/inspect/`` (see the module docstring for its files).

    :param run_dir: a complete run folder
    :param games: whole games of the run's game its policy plays for the frames (at least 1)
    :param max_frames: frames kept from those games at most, evenly spaced
    :param saliency_frames: frames with a saliency map
    :param shifts: the probe's shifts k in pixels
    :param compare: also probe the matching ``nature`` run of the same sweep folder, if it has one
    :param untrained: also measure the run's untrained network of the same seed on the same frames
    :param gif: record one whole game as ``game.gif``
    :param device: torch device
    :return: the results, with ``out`` set
    :raises UserError: for a folder that is no complete run, or a bad count
    """
    inspection = compute_inspection(
        run_dir,
        games,
        max_frames=max_frames,
        saliency_frames=saliency_frames,
        shifts=shifts,
        compare=compare,
        untrained=untrained,
        device=device,
    )
    write_inspection(inspection, gif=gif, device=device)
    return inspection


# --------------------------------------------------------------------------- writing


def _csv(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> str:
    """The table, each float as the shortest spelling that reads back to it (``nan`` spelled out)."""
    return csv_text((dict(zip(columns, row)) for row in rows), columns, shortest_with_nan)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _slug(layer: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in layer)


def _coord_rows(terms: Sequence[CoordTerm], untrained: Sequence[CoordTerm] = ()) -> list[list[Any]]:
    """One row per filter; the untrained columns empty where the reference has no such layer."""
    reference = {t.layer: t for t in untrained}
    rows = []
    for term in terms:
        ratio = term.ratio
        fresh = reference.get(term.layer)
        for f in range(term.maps.shape[0]):
            row: list[Any] = [
                term.layer,
                f,
                float(term.coord_rms[f]),
                float(term.coord_span[f]),
                float(term.bias[f]),
                float(term.image_rms[f]),
                float(ratio[f]),
            ]
            if fresh is None:
                row += ["", "", ""]
            else:
                row += [float(fresh.coord_rms[f]), float(fresh.image_rms[f]), float(fresh.ratio[f])]
            rows.append(row)
    return rows


def _probe_rows(label: str, extractor: str, rows: Sequence[ProbeRow]) -> list[list[Any]]:
    return [
        [
            label,
            extractor,
            r.axis,
            r.shift,
            r.tv_mean,
            r.tv_median,
            r.value_change_mean,
            r.value_change_median,
            r.frames,
        ]
        for r in rows
    ]


def _record_gif(inspection: Inspection, path: Path, device: str) -> None:
    from rl_coordconv.evaluation import record_gif

    run = inspection.run
    model = inspection.model if inspection.model is not None else load_policy_model(run, device)
    score, images = record_gif(
        model,
        run.game,
        path,
        seed=derived_seed(run, 1),
        protocol=protocol_of(run),
        backend=run.backend,
        deterministic=run.deterministic,
    )
    inspection.gif_score, inspection.gif_images = score, images


def _untrained_summary(reference: Untrained) -> dict[str, Any]:
    return {
        "coord_init": reference.coord_init,
        "seed": reference.seed,
        "coordconv_layers": [{"layer": t.layer, "median_ratio": float(np.median(t.ratio))} for t in reference.terms],
        "median_ratio": reference.median_ratio(),
        "probe": [asdict(r) for r in reference.probe],
    }


def _summary(inspection: Inspection) -> dict[str, Any]:
    run, frames = inspection.run, inspection.frames
    return {
        "run": run.path.name,
        "algo": run.algo,
        "game": run.game,
        "extractor": run.extractor,
        "seed": run.seed,
        "frames": {
            "games": len(frames.scores),
            "scores": list(frames.scores),
            "agent_steps": frames.agent_steps,
            "kept": int(len(frames.observations)),
            "seed": frames.seed,
        },
        "coordconv_layers": [
            {
                "layer": t.layer,
                "filters": int(t.maps.shape[0]),
                "map_shape": list(t.maps.shape[1:]),
                "input_shape": list(t.input_shape),
                "median_ratio": float(np.median(t.ratio)),
            }
            for t in inspection.terms
        ],
        "median_ratio": inspection.median_ratio(),
        "probe": [asdict(r) for r in inspection.probe],
        "untrained": None if inspection.untrained is None else _untrained_summary(inspection.untrained),
        "baseline": None
        if inspection.baseline is None
        else {"run": inspection.baseline.path.name, "probe": [asdict(r) for r in inspection.baseline_probe or []]},
        "saliency_frames": inspection.saliency_indices.tolist(),
        "gif": None
        if inspection.gif_images == 0
        else {"file": "game.gif", "score": inspection.gif_score, "images": inspection.gif_images},
    }


def write_inspection(inspection: Inspection, *, gif: bool = True, device: str = "cpu") -> Path:
    """Write an inspection's files into ``RUN_DIR/inspect/``, replacing an older inspection there.

    :param inspection: what :func:`compute_inspection` returned
    :param gif: record one whole game as ``game.gif``
    :param device: torch device for the GIF's game
    :return: the folder written
    """
    from rl_coordconv.inspection import figures, markdown

    run = inspection.run
    final = run.path / INSPECT_DIR
    tmp = Path(tempfile.mkdtemp(prefix=f".{INSPECT_DIR}.", suffix=".tmp", dir=run.path))
    try:
        label = f"{run.game}, {run.algo}, {run.extractor}, seed {run.seed}"
        reference = inspection.untrained
        if inspection.terms:
            fresh_terms = reference.terms if reference is not None else []
            rows = _coord_rows(inspection.terms, fresh_terms)
            _write_text(tmp / runfolder.INSPECT_COORD_TERMS, _csv(rows, COORD_COLUMNS))
            with open(tmp / "coord_terms.npz", "wb") as handle:
                maps: dict[str, Any] = {t.layer: t.maps for t in inspection.terms}
                maps.update({f"untrained.{t.layer}": t.maps for t in fresh_terms})
                np.savez_compressed(handle, **maps)
            for term in inspection.terms:
                title = f"coordinate term of {term.layer} ({label}): conv(coords, W_c) + b per filter"
                figures.save_figure(figures.coord_maps_figure(term, title), tmp / f"coord_maps_{_slug(term.layer)}.png")
            figures.save_figure(
                figures.ratio_histogram(
                    inspection.terms,
                    f"coordinate term vs image term ({label})",
                    untrained=reference.terms if reference is not None else None,
                ),
                tmp / "coord_ratio.png",
            )
        probe_rows = _probe_rows("this run", run.extractor, inspection.probe)
        curves = {f"{run.extractor} (this run)": figures.probe_points(inspection.probe)}
        if reference is not None:
            probe_rows += _probe_rows(UNTRAINED_POLICY, run.extractor, reference.probe)
            curves[f"{run.extractor} (untrained, same seed)"] = figures.probe_points(reference.probe)
        if inspection.baseline is not None and inspection.baseline_probe is not None:
            probe_rows += _probe_rows("matching nature run", inspection.baseline.extractor, inspection.baseline_probe)
            curves[f"{inspection.baseline.extractor} (same seed, same frames)"] = figures.probe_points(
                inspection.baseline_probe
            )
        _write_text(tmp / runfolder.INSPECT_PROBE, _csv(probe_rows, PROBE_COLUMNS))
        figures.save_figure(figures.probe_figure(curves, f"translation probe ({label})"), tmp / "probe.png")
        observations = inspection.frames.observations[inspection.saliency_indices]
        with open(tmp / "saliency.npz", "wb") as handle:
            np.savez_compressed(
                handle, frames=observations, saliency=inspection.saliency, indices=inspection.saliency_indices
            )
        if len(observations):
            captions = [f"frame {i} of {len(inspection.frames.observations)}" for i in inspection.saliency_indices]
            figures.save_figure(
                figures.saliency_figure(observations[:, -1], inspection.saliency, captions, f"saliency ({label})"),
                tmp / "saliency.png",
            )
        if gif:
            _record_gif(inspection, tmp / "game.gif", device)
        _write_text(tmp / SUMMARY, json.dumps(_summary(inspection), indent=2) + "\n")
        _write_text(tmp / "inspect.md", markdown.inspection_markdown(inspection, {p.name for p in tmp.iterdir()}))
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    inspection.out = final
    return final


def _replace_dir(new: Path, final: Path) -> None:
    """Put ``new`` where ``final`` is, keeping the old folder until the new one is in place."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
