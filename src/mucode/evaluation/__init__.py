"""Judging sample files: reading them, pass@k results, their output formats."""
