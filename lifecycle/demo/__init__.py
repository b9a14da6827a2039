"""``lifecycle demo``: a simulated credit-default model monitored end to end.

:mod:`~lifecycle.demo.data` generates the problem and its changing world,
:mod:`~lifecycle.demo.story` runs the simulated clock (capture, late labels, the real jobs),
:mod:`~lifecycle.demo.driver` runs the scheduled jobs through the scheduler's runner,
:mod:`~lifecycle.demo.observe` and :mod:`~lifecycle.demo.summary` read back what the jobs
wrote, :mod:`~lifecycle.demo.folder` owns the demo folder. See docs/demo.md.
"""
