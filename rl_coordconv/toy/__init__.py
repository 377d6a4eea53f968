"""The paper's supervised coordinate-transform tasks (Not-so-Clevr).

Liu et al., "An Intriguing Failing of Convolutional Neural Networks and the CoordConv Solution"
(NeurIPS 2018, arXiv:1807.03247), section 4. One job per module:

- :mod:`rl_coordconv.toy.data`: every position of a pixel or 9x9 square on a 64x64 canvas, and the
  ``uniform`` and ``quadrant`` splits;
- :mod:`rl_coordconv.toy.models`: the conv and CoordConv models of both tasks;
- :mod:`rl_coordconv.toy.train`: one seeded training run and its measurements (:func:`run_toy`);
- :mod:`rl_coordconv.toy.suite`: the 2 x 2 x 2 grid of ``rl-coordconv toy all``;
- :mod:`rl_coordconv.toy.report`: table, CSV, JSON and figure.
"""
