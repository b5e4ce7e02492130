"""Results over folders of runs: discovery, tables, figures and joint-run clean-up."""
