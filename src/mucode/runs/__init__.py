"""One run of a stage with its engine, sandbox and manifest: what the command line and the
training loop both start (rollouts, searches)."""
