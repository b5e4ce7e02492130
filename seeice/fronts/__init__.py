"""Calving fronts: detection by morphological active contours."""
