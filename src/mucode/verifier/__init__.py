"""The learned verifier R(x, y): data from rollouts, BCE / Bradley–Terry training with the
HF Trainer, scoring, and ranking metrics. Importing this package loads no torch."""
