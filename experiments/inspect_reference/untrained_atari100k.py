"""Untrained (joint-init) coordinate-term RMS of results/atari100k's coordconv runs beside the shipped trained one."""
import csv, sys, time
from pathlib import Path
import numpy as np
from rl_coordconv import runfolder
from rl_coordconv.inspection.source import RunSource
from rl_coordconv.inspection.untrained import untrained_model, recorded_coord_init
from rl_coordconv.inspection.coord_terms import coordinate_terms

root = Path("results/atari100k/runs")
limit = int(sys.argv[1]) if len(sys.argv) > 1 else 10**9
out = []
frames = np.random.default_rng(0).integers(0, 256, (2, 4, 84, 84), dtype=np.uint8)
for d in sorted(root.glob("*-ppo-coordconv-seed*"))[:limit]:
    t = time.time()
    c = runfolder.RunConfig.read(d)
    src = RunSource(d, c.algo, c.game, c.extractor, c.seed, dict(c.protocol), c.backend, 0, False, ())
    (term,) = coordinate_terms(untrained_model(src).policy, frames)
    trained = [r for r in csv.DictReader(open(d / "inspect" / "coord_terms.csv"))]
    tr = np.array([float(r["coord_rms"]) for r in trained]); ti = np.array([float(r["image_rms"]) for r in trained])
    out.append((d.name, recorded_coord_init(c), np.median(term.coord_rms), np.median(tr), np.median(ti),
                np.median(tr / term.coord_rms), np.corrcoef(tr, term.coord_rms)[0, 1]))
    print(*out[-1], f"{time.time()-t:.1f}s", flush=True)
a = np.array([o[2:] for o in out], dtype=float)
print("runs", len(out), "median over runs: untrained coord_rms", np.median(a[:,0]), "trained coord_rms", np.median(a[:,1]),
      "trained image_rms", np.median(a[:,2]), "median per-run median trained/untrained coord_rms", np.median(a[:,3]),
      "range", a[:,3].min(), a[:,3].max(), "per-filter corr median", np.median(a[:,4]), "min", a[:,4].min())
