"""Retraining's data half: the user's trainer and loader (:mod:`.trainer`, imported by
:mod:`.imports`), the training window built from the prediction log (:mod:`.window`) and
holdout scores with the performance job's metric code (:mod:`.holdout`).

Importing this package imports nothing else (the job kinds import :mod:`.imports` alone).
"""
