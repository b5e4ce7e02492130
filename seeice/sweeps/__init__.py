"""Batch sweeps from a jobs CSV, run locally or on a Ray cluster."""
