"""Runtime operations on the platform's stack: the `byo` CLI and the plain functions behind it."""
