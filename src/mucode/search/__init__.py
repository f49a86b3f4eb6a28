"""Multi-turn Best-of-N search: N candidates per turn, one kept by a selection rule, its
public-test feedback sent back, until the kept code passes the public tests or T turns."""
