"""Profiling: every column of a dataset in one aggregate scan (see docs/profiling.md).

`profiler.profile_dataset` measures; `stage.profile_due` / `stage.profile_into` are the run's profile
stage. Nothing is imported here, so config validation (which parses `sample` with `sampling`) stays light.
"""
