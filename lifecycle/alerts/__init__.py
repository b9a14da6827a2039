"""Alerts: policy (severity, persistence, cooldown, dedup, auto-resolve), evaluation of drift
and performance reports, delivery to the log and a webhook, and the retrain trigger hook.

Nothing here connects or reads settings at import time.
"""
