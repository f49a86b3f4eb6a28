"""The small modules every package uses: records, errors, JSON lines, manifests, caches,
progress, terminal output, optional imports, plotting, process rank."""
