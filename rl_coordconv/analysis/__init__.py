"""Analysis of run folders: statistics (rliable), plots, report."""
