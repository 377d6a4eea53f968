"""The paper's supervised coordinate-transform tasks (Not-so-Clevr)."""
