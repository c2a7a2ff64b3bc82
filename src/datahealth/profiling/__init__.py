"""Profiling: every column of a dataset in one aggregate scan (see docs/profiling.md).

`profiler.profile_dataset` measures; `stage.profile_due` / `stage.profile_into` are the run's profile
stage. What differs per database engine (expressions, sampling, time limits) is in `datahealth.engines`.
Nothing is imported here, so importing a submodule stays light.
"""
