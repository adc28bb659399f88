"""Shared pytest configuration: Hypothesis profiles.

The ``ci`` profile is loaded when the ``CI`` environment variable is set (as ``.ci/run`` does);
``dev`` otherwise. Both are derandomized so the suite is reproducible.
"""

from __future__ import annotations

import os
import pathlib

# The incremental Endpoints engine vouches for the sizes and validity of the address lists it
# builds (kubesim.wire / kubesim.validation ``CHECK_HINTS``): in the suite every claim is checked.
os.environ.setdefault("KUBESIM_CHECK_HINTS", "1")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def shared_dir() -> pathlib.Path:
    """The project's ``shared/`` folder: beside the checkout (as in CI), else ``/work/shared``."""
    here = pathlib.Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "shared", pathlib.Path("/work/shared")):
        if (candidate / "reference").is_dir():
            return candidate
    return here.parent / "shared"


SHARED = shared_dir()
FIXTURES = SHARED / "reference" / "fixtures"
