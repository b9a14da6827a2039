"""Scheduled work: job functions (one unit of work each, idempotent per window), the job
registry, and the runner that executes one job for one model and window under a lease."""
