"""``mucode report``: search runs as paper-style tables, plots and one-line summaries."""
