"""``rl-coordconv inspect``: coordinate terms, translation probe, saliency and GIF of a trained run, each beside
the untrained network of the same seed.

Two tiny PPO runs (256 agent steps, 2 environments, one final evaluation game) of Breakout, ``coordconv`` and
``nature`` with the same seed, side by side as a sweep keeps them; a policy built to depend on position
(its only feature is the x coordinate of the brightest pixel) checks what the probe and the saliency say.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from PIL import Image
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from rl_coordconv import runfolder
from rl_coordconv.atari import make_vec_env
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.export import export_records
from rl_coordconv.extractors import EXTRACTORS, policy_kwargs_for
from rl_coordconv.inspection import Inspection, compute_inspection, inspect_run
from rl_coordconv.inspection.compare import (
    COMPARISON_COLUMNS,
    UNTRAINED_COLUMNS,
    add_inspect_section,
    comparison_table,
    ensure_inspections,
    over_games,
)
from rl_coordconv.inspection.coord_terms import coordconv_layers, coordinate_terms
from rl_coordconv.inspection.probe import SHIFTS, shift_frames, translation_probe
from rl_coordconv.inspection.saliency import perturbation_saliency
from rl_coordconv.inspection.source import matching_run, open_run
from rl_coordconv.inspection.untrained import measure_untrained, recorded_coord_init, untrained_model
from rl_coordconv.training import derive_seeds, train

GAME = "Breakout"
STEPS = 256
TINY = {
    "n_envs": 2,
    "eval_episodes": 1,  # a final evaluation: the score `analyze` needs
    "checkpoint_freq": 0,
    "progress_bar": False,
    "threads": 1,
    "quiet": True,
    "hyperparameters": {"n_steps": 64, "batch_size": 64, "n_epochs": 1},
}
FAST = {"max_frames": 48, "saliency_frames": 2}
SPACE = spaces.Box(0, 255, (4, 84, 84), np.uint8)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    for extractor in ("coordconv", "nature"):
        train("ppo", GAME, extractor, 0, STEPS, out=root / "runs", **TINY)
    return root


@pytest.fixture(scope="module")
def coord_run(sweep: Path) -> Path:
    return sweep / "runs" / f"{GAME}-ppo-coordconv-seed0"


@pytest.fixture(scope="module")
def nature_run(sweep: Path) -> Path:
    return sweep / "runs" / f"{GAME}-ppo-nature-seed0"


@pytest.fixture(scope="module")
def inspected(coord_run: Path, nature_run: Path) -> Inspection:
    """The coordconv run through the Python API, the nature run through the command line."""
    inspection = inspect_run(coord_run, **FAST)
    assert main(["inspect", str(nature_run), "--no-gif", "--frames", "16"]) == 0
    return inspection


# -- a trained run --------------------------------------------------------------------------------


def test_inspect_writes_maps_probe_saliency_and_gif(inspected, coord_run: Path, nature_run: Path) -> None:
    out = coord_run / "inspect"
    assert inspected.out == out
    for name in (
        "inspect.md",
        "summary.json",
        "coord_terms.csv",
        "coord_terms.npz",
        "coord_ratio.png",
        "coord_maps_features_extractor_cnn_0.png",
        "probe.csv",
        "probe.png",
        "saliency.npz",
        "saliency.png",
        "game.gif",
    ):
        assert (out / name).is_file(), name
    assert not [p for p in coord_run.iterdir() if p.name.startswith(".inspect")]  # no temporary folder left

    maps = np.load(out / "coord_terms.npz")
    assert list(maps) == ["features_extractor.cnn.0", "untrained.features_extractor.cnn.0"]
    assert maps["features_extractor.cnn.0"].shape == maps["untrained.features_extractor.cnn.0"].shape == (32, 20, 20)
    filters = rows(out / "coord_terms.csv")
    assert len(filters) == 32 and {r["layer"] for r in filters} == {"features_extractor.cnn.0"}
    assert all(float(r["ratio"]) == pytest.approx(float(r["coord_rms"]) / float(r["image_rms"])) for r in filters)

    saliency = np.load(out / "saliency.npz")
    assert saliency["frames"].shape == (2, 4, 84, 84) and saliency["frames"].dtype == np.uint8
    assert saliency["saliency"].shape == (2, 84, 84) and (saliency["saliency"] >= 0).all()

    summary = json.loads((out / "summary.json").read_text())
    kept = summary["frames"]["kept"]
    assert kept == len(inspected.frames.observations) and 2 <= kept <= FAST["max_frames"]
    assert summary["frames"]["games"] == 1 and summary["baseline"]["run"] == nature_run.name

    probe = rows(out / "probe.csv")
    assert len(probe) == 3 * 2 * len(SHIFTS)  # (this run, its untrained net, nature run) x (horizontal, vertical) x k
    assert {(r["policy"], r["extractor"]) for r in probe} == {
        ("this run", "coordconv"),
        ("untrained (same seed)", "coordconv"),
        ("matching nature run", "nature"),
    }
    assert summary["untrained"]["coord_init"] == "zeros" and summary["untrained"]["seed"] == derive_seeds(0)["training"]

    assert summary["gif"]["images"] == inspected.gif_images > 1
    with Image.open(out / "game.gif") as gif:  # Pillow merges repeated images, adding up their durations
        assert gif.format == "GIF" and gif.size == (160, 210) and 1 < gif.n_frames <= inspected.gif_images
    text = (out / "inspect.md").read_text()
    assert nature_run.name in text and "game.gif" in text and "No coordinate channels" not in text
    assert "*untrained* network" in text and "`coord_init='zeros'`" in text and "TV coordconv untrained" in text


def test_probe_is_exactly_zero_without_a_shift(inspected, coord_run: Path) -> None:
    zero = [r for r in rows(coord_run / "inspect" / "probe.csv") if r["shift"] == "0"]
    assert len(zero) == 6  # (this run, its untrained network, the nature run) x 2 axes
    for row in zero:
        assert float(row["tv_mean"]) == 0.0 and float(row["value_change_mean"]) == 0.0
    assert any(float(r["tv_mean"]) > 0 for r in rows(coord_run / "inspect" / "probe.csv"))


def test_the_same_call_gives_the_same_numbers(inspected, coord_run: Path) -> None:
    """Seeded, and the untrained reference (whose construction seeds SB3's global generators) leaves the
    inspection's other numbers as they are without it."""
    again = compute_inspection(coord_run, compare=False, untrained=False, **FAST)
    np.testing.assert_array_equal(again.frames.observations, inspected.frames.observations)
    assert again.probe == inspected.probe and again.untrained is None
    np.testing.assert_array_equal(again.terms[0].image_rms, inspected.terms[0].image_rms)
    np.testing.assert_array_equal(again.saliency, inspected.saliency)


# -- the untrained reference ------------------------------------------------------------------------


def fresh_sb3_policy(run_dir: Path, **extractor_kwargs: object) -> ActorCriticPolicy:
    """The run's policy at agent step 0 built by plain SB3 (no rl_coordconv builder): PPO's CnnPolicy with
    the extractor's fair kwargs, seeded with the run's training seed, on the run's game."""
    config = runfolder.RunConfig.read(run_dir)
    seed = derive_seeds(config.seed)["training"]
    env = make_vec_env(GAME, TINY["n_envs"], seed, backend=config.backend)
    try:
        model = PPO(
            "CnnPolicy", env, policy_kwargs=policy_kwargs_for(config.extractor, **extractor_kwargs), seed=seed,
            n_steps=64, batch_size=64, n_epochs=1, device="cpu",
        )  # fmt: skip
    finally:
        env.close()
    return model.policy.eval()


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_the_untrained_reference_of_a_zeros_init_coordconv_has_coordinate_term_exactly_zero(
    inspected, coord_run: Path
) -> None:
    reference = inspected.untrained
    assert reference is not None and reference.coord_init == "zeros" and len(reference.terms) == 1
    (fresh,), (trained,) = reference.terms, inspected.terms
    assert (fresh.coord_rms == 0.0).all() and (fresh.ratio == 0.0).all() and reference.median_ratio() == 0.0
    np.testing.assert_array_equal(fresh.maps, np.broadcast_to(fresh.bias[:, None, None], fresh.maps.shape))
    assert (trained.coord_rms > 0).all()  # 256 agent steps of Adam moved every coordinate weight off 0
    filters = rows(coord_run / "inspect" / "coord_terms.csv")
    assert all(float(r["untrained_coord_rms"]) == 0.0 and float(r["untrained_ratio"]) == 0.0 for r in filters)
    assert [float(r["untrained_image_rms"]) for r in filters] == pytest.approx(fresh.image_rms.tolist(), rel=1e-12)
    maps = np.load(coord_run / "inspect" / "coord_terms.npz")
    np.testing.assert_array_equal(maps["untrained.features_extractor.cnn.0"], fresh.maps)


def test_the_untrained_reference_is_the_policy_built_fresh_at_the_runs_seed(
    inspected, coord_run: Path, nature_run: Path
) -> None:
    """Equal to plain SB3's policy at the run's training seed, weight for weight, and measured as such on the
    inspection's frames; trained, the run's weights are no longer those. With coord_init="zeros" the
    untrained coordconv and nature networks of one seed are one function: their probes agree."""
    run = open_run(coord_run)
    built = untrained_model(run).policy
    expected = fresh_sb3_policy(coord_run)
    assert_same_weights(built, expected)
    trained = inspected.model.policy.state_dict()
    assert not torch.equal(
        trained["features_extractor.cnn.0.weight"], built.state_dict()["features_extractor.cnn.0.weight"]
    )
    frames = inspected.frames.observations
    assert inspected.untrained is not None
    assert inspected.untrained.probe == translation_probe(expected, frames)
    (term,) = coordinate_terms(expected, frames)
    np.testing.assert_array_equal(inspected.untrained.terms[0].image_rms, term.image_rms)
    nature = measure_untrained(open_run(nature_run), frames)
    assert nature.coord_init is None and nature.terms == [] and nature.median_ratio() is None
    for a, b in zip(inspected.untrained.probe, nature.probe, strict=True):
        assert (a.axis, a.shift) == (b.axis, b.shift)
        assert a.tv_mean == pytest.approx(b.tv_mean, abs=1e-6)
        assert a.value_change_mean == pytest.approx(b.value_change_mean, abs=1e-6)


def test_a_record_without_coord_init_gets_the_joint_reference(coord_run: Path, tmp_path: Path) -> None:
    """Runs recorded before coord_init existed (results/atari100k) drew image and coordinate weights
    together: their reference is built so, and is the joint policy plain SB3 builds at their seed."""
    legacy = tmp_path / coord_run.name
    shutil.copytree(coord_run, legacy, ignore=shutil.ignore_patterns("inspect", "tb"))
    config = runfolder.RunConfig.read(legacy)
    assert recorded_coord_init(config) == "zeros"
    kwargs = {k: v for k, v in config.policy["features_extractor_kwargs"].items() if k != "coord_init"}
    config = dataclasses.replace(config, policy={**config.policy, "features_extractor_kwargs": kwargs})
    config.write(legacy)
    assert recorded_coord_init(runfolder.RunConfig.read(legacy)) == "joint"
    built = untrained_model(open_run(legacy)).policy
    (_, layer), *_ = coordconv_layers(built)
    assert layer.coord_init == "joint" and layer.weight.shape == (32, 6, 8, 8) and layer.weight_coords is None
    assert_same_weights(built, fresh_sb3_policy(legacy, coord_init="joint"))
    frames = random_frames(4)
    (term,) = measure_untrained(open_run(legacy), frames).terms
    assert (term.coord_rms > 0).all()  # drawn, not zero


def test_nature_has_no_coordinate_channels(inspected, nature_run: Path) -> None:
    out = nature_run / "inspect"
    assert "No coordinate channels" in (out / "inspect.md").read_text()
    assert not (out / "coord_terms.csv").exists() and not (out / "game.gif").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["median_ratio"] is None and summary["coordconv_layers"] == [] and summary["baseline"] is None


def test_bad_input_is_one_line(
    sweep: Path, coord_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(tmp_path / "nowhere")]) == 2
    assert main(["inspect", str(coord_run), "--games", "0"]) == 2
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / runfolder.CONFIG).write_text((coord_run / runfolder.CONFIG).read_text())
    with pytest.raises(UserError, match="model.zip"):
        inspect_run(unfinished)
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("rl-coordconv inspect: error:") for line in errors)


def test_inspect_on_a_sweep_folder_inspects_the_runs_that_need_it(
    inspected, sweep: Path, nature_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(sweep), "--no-gif", "--frames", "16"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [f"0 run(s) inspected now under {sweep}"]
    summary = nature_run / "inspect" / "summary.json"
    before = summary.read_text()
    model = nature_run / runfolder.MODEL
    kept = model.stat()
    stamp = summary.stat().st_mtime + 1
    os.utime(model, (stamp, stamp))  # weights newer than the inspection: redo it
    assert main(["inspect", str(sweep), "--no-gif", "--frames", "16"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"inspection: {nature_run / 'inspect' / 'inspect.md'}", f"1 run(s) inspected now under {sweep}"]
    assert summary.read_text() == before  # seeded: the same numbers again
    os.utime(model, ns=(kept.st_atime_ns, kept.st_mtime_ns))  # as the other tests found it
    older = json.loads(before)
    del older["untrained"]  # an inspection made before the untrained reference existed: redone to add it
    summary.write_text(json.dumps(older))
    assert main(["inspect", str(sweep), "--no-gif", "--frames", "16"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"1 run(s) inspected now under {sweep}"
    assert summary.read_text() == before
    unfinished = tmp_path / "part" / "runs" / nature_run.name
    shutil.copytree(nature_run, unfinished, ignore=shutil.ignore_patterns("inspect"))
    (unfinished / runfolder.STATUS).unlink()  # weights, but the run is not complete: not inspected
    assert main(["inspect", str(tmp_path / "part"), "--no-gif"]) == 0
    assert "0 run(s) inspected now" in capsys.readouterr().out and not (unfinished / "inspect").exists()
    (tmp_path / "empty").mkdir()
    assert main(["inspect", str(tmp_path / "empty")]) == 2
    assert "holds no run folder" in capsys.readouterr().err


def test_the_matching_nature_run_differs_only_by_its_extractor(
    coord_run: Path, nature_run: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    skip = shutil.ignore_patterns("inspect", "tb")
    shutil.copytree(coord_run, runs / coord_run.name, ignore=skip)
    other_seed = runs / "Breakout-ppo-nature-seed1"
    shutil.copytree(nature_run, other_seed, ignore=skip)
    dataclasses.replace(runfolder.RunConfig.read(other_seed), seed=1).write(other_seed)
    assert matching_run(open_run(runs / coord_run.name)) is None
    shutil.copytree(nature_run, runs / nature_run.name, ignore=skip)
    match = matching_run(open_run(runs / coord_run.name))
    assert match is not None and match.path.name == nature_run.name
    assert matching_run(open_run(runs / nature_run.name)) is None  # nature is compared with nothing


def test_analyze_inspect_compares_extractors_per_game(inspected, sweep: Path, tmp_path: Path) -> None:
    assert ensure_inspections(sweep) == []  # both runs already have up-to-date inspections
    report = tmp_path / "report.md"
    report.write_text("# Report\n\nabove\n")
    for _ in range(2):  # a second call replaces the section instead of repeating it
        table = add_inspect_section(sweep, report)
    text = report.read_text()
    assert text.startswith("# Report\n\nabove\n") and text.count("## Inside the agents") == 1
    assert "### PPO on Breakout" in text and (tmp_path / "inspect_probe_ppo_Breakout.png").is_file()
    comparison = rows(table)
    assert len(comparison) == 2 * 2 * len(SHIFTS)
    by_extractor = {r["extractor"]: r for r in comparison}
    assert by_extractor["nature"]["median_ratio"] == "" and float(by_extractor["coordconv"]["median_ratio"]) > 0
    assert all(r["seeds"] == "1" for r in comparison)
    # the untrained reference beside every number: zero coordinate term, and each run's own probe
    assert set(UNTRAINED_COLUMNS) <= set(comparison[0])
    assert by_extractor["nature"]["untrained_median_ratio"] == ""
    assert float(by_extractor["coordconv"]["untrained_median_ratio"]) == 0.0
    probe = {(r.axis, r.shift): r for r in inspected.untrained.probe}
    for r in comparison:
        if r["extractor"] == "coordconv":
            assert float(r["untrained_tv_mean"]) == probe[r["axis"], int(r["shift"])].tv_mean
    assert "In brackets: the same numbers of each run's *untrained* network" in text
    ratio = float(by_extractor["coordconv"]["median_ratio"])
    assert f"| `coordconv` | 1 | {ratio:.3g} (0) |" in text


def test_analyze_inspect_flag(inspected, sweep: Path) -> None:
    assert main(["analyze", str(sweep), "--inspect", "--reps", "50"]) == 0
    assert "## Inside the agents" in (sweep / "report" / "report.md").read_text()


def test_exported_inspections_give_the_same_comparison_without_the_weights(
    inspected, sweep: Path, tmp_path: Path
) -> None:
    """`rl-coordconv export` carries the inspections' numbers: `analyze --inspect` on the exported records
    (no model.zip, nothing to inspect) writes the sweep's comparison, and the section says what it lacks."""
    on_sweep, on_export = tmp_path / "sweep_report", tmp_path / "export_report"
    on_sweep.mkdir()
    on_export.mkdir()
    expected = add_inspect_section(sweep, on_sweep / "report.md")
    export_records(sweep, tmp_path / "shared")
    assert not list((tmp_path / "shared").rglob("model.zip"))
    got = add_inspect_section(tmp_path / "shared", on_export / "report.md", figures=False)
    assert got.read_text() == expected.read_text()
    text = (on_export / "report.md").read_text()
    assert "### PPO: over the games" in text and "### PPO on Breakout" in text
    assert "Figures were not drawn" in text and "![" not in text and not list(on_export.glob("*.png"))
    assert "inspect.md)" not in text  # the exported runs hold no inspect.md to link
    assert "[0](" in (on_sweep / "report.md").read_text()  # the sweep's runs do
    assert "Complete runs with an inspection: 2 of 2.\n" in text


def test_the_section_names_the_complete_runs_it_has_no_inspection_for(inspected, sweep: Path, tmp_path: Path) -> None:
    """Records exported before their run was inspected: the comparison reads what is there and the section
    says which complete run it lacks, instead of silently comparing fewer seeds."""
    export_records(sweep, tmp_path / "shared")
    shutil.rmtree(tmp_path / "shared" / "runs" / f"{GAME}-ppo-coordconv-seed0" / "inspect")
    report = tmp_path / "report" / "report.md"
    report.parent.mkdir()
    table = add_inspect_section(tmp_path / "shared", report, figures=False)
    text = report.read_text()
    assert "Complete runs with an inspection: 1 of 2; without one (1, " in text
    assert f"`{GAME}-ppo-coordconv-seed0`.\n" in text
    assert {r["extractor"] for r in rows(table)} == {"nature"}


def test_over_the_games_takes_medians_of_the_per_game_medians_and_counts_games_against_nature() -> None:
    def summary(game: str, extractor: str, ratio: float | None, tv_h: float, tv_v: float) -> dict:
        probe = [
            {
                "axis": axis,
                "shift": shift,
                "tv_mean": tv if shift else 0.0,
                "value_change_mean": 10 * tv if shift else 0.0,
            }
            for axis, tv in (("horizontal", tv_h), ("vertical", tv_v))
            for shift in (0, 8)
        ]
        return {"algo": "ppo", "game": game, "extractor": extractor, "seed": 0, "median_ratio": ratio, "probe": probe}

    table = comparison_table(
        [
            summary("Pong", "nature", None, 0.1, 0.2),
            summary("Pong", "coordconv", 0.5, 0.3, 0.1),
            summary("Breakout", "nature", None, 0.2, 0.2),
            summary("Breakout", "coordconv", 1.5, 0.4, 0.4),
            summary("Qbert", "coordconv", 1.0, 0.5, 0.5),  # no nature run to pair with
        ]
    )
    rows = {r["extractor"]: r for r in over_games(table, 8).to_dict("records")}
    assert list(rows) == ["nature", "coordconv"]
    coord, nature = rows["coordconv"], rows["nature"]
    assert coord["games"] == 3 and coord["paired_games"] == 2
    assert coord["median_ratio"] == pytest.approx(1.0)
    assert (coord["tv_h"], coord["tv_v"], coord["dv_h"]) == pytest.approx((0.4, 0.4, 4.0))
    assert (coord["tv_h_above"], coord["tv_v_above"]) == (2, 1)  # 0.3 > 0.1 and 0.4 > 0.2; 0.1 < 0.2
    assert nature["games"] == 2 and np.isnan(nature["median_ratio"]) and np.isnan(nature["paired_games"])
    assert (nature["tv_h"], nature["tv_v"]) == pytest.approx((0.15, 0.2))
    assert over_games(table, 0)["tv_h"].tolist() == [0.0, 0.0]
    assert over_games(table, 4).empty  # no such shift


def test_comparison_takes_medians_over_seeds() -> None:
    def summary(seed: int, ratio: float | None, tv: float) -> dict:
        probe = [{"axis": "horizontal", "shift": 8, "tv_mean": tv, "value_change_mean": 2 * tv}]
        return {
            "algo": "ppo",
            "game": "Pong",
            "extractor": "coordconv",
            "seed": seed,
            "median_ratio": ratio,
            "probe": probe,
        }

    table = comparison_table([summary(0, 0.1, 0.2), summary(1, 0.3, 0.4), summary(2, 0.5, 0.9)])
    assert table.to_dict("records") == [
        {
            "algo": "ppo",
            "game": "Pong",
            "extractor": "coordconv",
            "seeds": 3,
            "median_ratio": 0.3,
            "axis": "horizontal",
            "shift": 8,
            "tv_mean": 0.4,
            "value_change_mean": 0.8,
        }
    ]
    # with the untrained reference in some summaries: its medians over the seeds that have it, beside
    with_reference = [summary(0, 0.1, 0.2), summary(1, 0.3, 0.4), summary(2, 0.5, 0.9)]
    for s, (ratio, tv) in zip(with_reference[:2], ((0.0, 0.05), (0.0, 0.15))):
        s["untrained"] = {"median_ratio": ratio, "probe": [{"axis": "horizontal", "shift": 8, "tv_mean": tv,
                                                            "value_change_mean": 3 * tv}]}  # fmt: skip
    (row,) = comparison_table(with_reference).to_dict("records")
    assert (row["median_ratio"], row["tv_mean"]) == (0.3, 0.4)
    assert row["untrained_median_ratio"] == 0.0
    assert (row["untrained_tv_mean"], row["untrained_value_change_mean"]) == pytest.approx((0.1, 0.3))
    summaries = [summary(0, None, 0.2)]
    summaries[0]["untrained"] = None  # an inspection asked for without it
    assert list(comparison_table(summaries).columns) == list(COMPARISON_COLUMNS)


# -- every registered extractor -------------------------------------------------------------------


def random_frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *SPACE.shape), dtype=np.uint8)


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_coordinate_terms_split_each_coordconv_layer(name: str) -> None:
    torch.manual_seed(0)
    policy = ActorCriticPolicy(SPACE, spaces.Discrete(4), lambda _: 0.0, **policy_kwargs_for(name)).eval()
    frames = random_frames(6)
    terms = coordinate_terms(policy, frames, batch_size=4)
    layers = coordconv_layers(policy)
    assert [t.layer for t in terms] == [n for n, _ in layers]
    if name == "nature":
        assert terms == []
    x = policy.obs_to_tensor(frames)[0].float() / 255.0
    with torch.no_grad():
        for (_, layer), term in zip(layers, terms):
            if term.input_shape != (4, 84, 84):
                continue  # deeper layers: their input is the previous layer's output
            image_term = layer._conv_forward(x, layer.image_weight, None)
            # the layer's output is its image term plus the maps, at every position of every frame
            np.testing.assert_allclose(
                (layer(x) - image_term).numpy(), np.broadcast_to(term.maps, image_term.shape), rtol=1e-4, atol=1e-5
            )
            rms = image_term.double().pow(2).mean(dim=(0, 2, 3)).sqrt().numpy()
            np.testing.assert_allclose(term.image_rms, rms, rtol=1e-6)
    shapes = {
        "coordconv": [(32, 20, 20)],
        "coordconv_r": [(32, 20, 20)],
        "coordconv_all": [(32, 20, 20), (64, 9, 9), (64, 7, 7)],
        "nature": [],
    }
    if name in shapes:
        assert [t.maps.shape for t in terms] == shapes[name]


# -- a policy built to depend on position ---------------------------------------------------------


class BrightestX(BaseFeaturesExtractor):
    """One feature: the x coordinate, in [-1, 1], of the brightest pixel of the newest frame."""

    def __init__(self, observation_space: spaces.Box) -> None:
        super().__init__(observation_space, features_dim=1)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        newest = observations[:, -1]
        n, _, width = newest.shape
        column = newest.reshape(n, -1).argmax(dim=1) % width
        return (2.0 * column.float() / (width - 1) - 1.0).unsqueeze(1)


@pytest.fixture(scope="module")
def position_policy() -> ActorCriticPolicy:
    policy = ActorCriticPolicy(
        SPACE, spaces.Discrete(4), lambda _: 0.0, net_arch=[], features_extractor_class=BrightestX
    )
    with torch.no_grad():
        policy.action_net.weight.copy_(torch.tensor([[-3.0], [-1.0], [1.0], [3.0]]))
        policy.action_net.bias.zero_()
        policy.value_net.weight.fill_(1.0)
        policy.value_net.bias.zero_()
    return policy.eval()


def dot_frames(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Noise in [0, 200] with one pixel at 255, at least 12 pixels from every edge; returns frames and (row, col)."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 201, (n, *SPACE.shape), dtype=np.uint8)
    where = rng.integers(12, 72, (n, 2))
    frames[np.arange(n), :, where[:, 0], where[:, 1]] = 255
    return frames, where


def test_probe_grows_with_the_shift_for_a_policy_that_reads_position(position_policy: ActorCriticPolicy) -> None:
    frames, _ = dot_frames(32)
    probe = {(r.axis, r.shift): r for r in translation_probe(position_policy, frames)}
    horizontal = [probe["horizontal", k].tv_mean for k in SHIFTS]
    assert horizontal[0] == 0.0 and all(a < b for a, b in zip(horizontal, horizontal[1:]))
    for k in SHIFTS:  # the value is x itself: it moves by exactly 2k / 83
        assert probe["horizontal", k].value_change_mean == pytest.approx(2 * k / 83, rel=1e-5, abs=1e-7)
        assert probe["vertical", k].tv_mean == 0.0 and probe["vertical", k].value_change_mean == 0.0


def test_shift_frames_moves_content_and_repeats_the_edge() -> None:
    frames = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    right = shift_frames(frames, dx=2)
    np.testing.assert_array_equal(right[..., 2:], frames[..., :3])
    np.testing.assert_array_equal(right[..., :2], np.repeat(frames[..., :1], 2, axis=-1))
    up = shift_frames(frames, dy=-1)
    np.testing.assert_array_equal(up[..., :2, :], frames[..., 1:, :])
    np.testing.assert_array_equal(up[..., 2, :], frames[..., 2, :])
    np.testing.assert_array_equal(shift_frames(frames), frames)


def test_saliency_points_at_the_pixel_the_policy_reads(position_policy: ActorCriticPolicy) -> None:
    frames, where = dot_frames(2, seed=3)
    saliency = perturbation_saliency(position_policy, frames)
    assert saliency.shape == (2, 84, 84)
    rows_, cols = np.mgrid[0:84, 0:84]
    for i, (r, c) in enumerate(where):
        distance = np.hypot(rows_ - r, cols - c)
        assert saliency[i].max() > 0 and distance.flat[saliency[i].argmax()] <= 8
        assert saliency[i][distance > 16].max() == 0.0
