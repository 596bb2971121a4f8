"""The `timeline` console script."""
