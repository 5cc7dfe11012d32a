"""Pictures of results: curves, confusion matrices, image grids (matplotlib, Agg backend)."""
