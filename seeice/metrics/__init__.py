"""Per-image scoring: classification reports, scored pixels and front distance statistics."""
