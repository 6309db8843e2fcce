"""Runners of the recipe (`hyposcreen.recipe`): they say how the stages run, never what they do.

`run_screen` picks one for a window: in this process (`in_process`) or by patient-hash
partition on local processes or a Dask cluster (`partitioned`); `windows` is the loop over
the windows of a run that the CLI and the Prefect flow share.
"""

from hyposcreen.runners.partitioned import run_screen

__all__ = ["run_screen"]
