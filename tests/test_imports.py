"""``import kubesim`` loads what a simulation runs and nothing else; the rest of the public API
loads on first use (kubesim._lazy) and is the same API."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

import kubesim

#: Modules ``import kubesim`` must not load: a simulation does not need them until asked.
LAZY_MODULES = (
    "kubesim.sweep",
    "kubesim.report",
    "kubesim.manifests.encode",
    "kubesim.manifests.decode",
    "kubesim.manifests.documents",
    "kubesim.manifests.schema",
    "kubesim.kubectl",
    "kubesim.controllers.endpointslice.reconciler",
    "kubesim.controllers.endpoints.reconciler",
    "yaml",
    "pandas",
    "matplotlib",
)


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code], check=True, capture_output=True, text=True
    ).stdout


def test_import_kubesim_does_not_load_the_lazy_modules() -> None:
    loaded = json.loads(_run("import json, sys, kubesim; print(json.dumps(sorted(sys.modules)))"))
    assert not sorted(set(LAZY_MODULES) & set(loaded))


def test_every_public_name_resolves_in_a_fresh_interpreter() -> None:
    out = _run(
        "import kubesim\n"
        "for name in kubesim.__all__: getattr(kubesim, name)\n"
        "from kubesim import sweep, SweepResult, to_manifest, from_manifest, load_yaml, endpoints_for\n"
        "print(sweep.__module__, SweepResult.__module__, to_manifest.__module__)\n"
    )
    assert out.split() == ["kubesim.sweep", "kubesim.sweep", "kubesim.manifests.encode"]


def test_public_names_and_submodules() -> None:
    for name in kubesim.__all__:
        assert name in dir(kubesim), name
        assert getattr(kubesim, name) is getattr(kubesim, name)
    for name in kubesim._SUBMODULES:
        assert isinstance(getattr(kubesim, name), types.ModuleType), name
    assert kubesim.to_manifest is kubesim.manifests.to_manifest


def test_importing_a_module_keeps_the_function_of_its_name() -> None:
    # kubesim.sweep is the function and kubesim.manifests.encode the encoder, whichever is
    # imported first (an import of a submodule binds it on its package)
    out = _run(
        "import sys, types\n"
        "import kubesim.sweep, kubesim.manifests.encode, kubesim\n"
        "print(isinstance(kubesim.sweep, types.FunctionType),"
        " isinstance(kubesim.manifests.encode, types.FunctionType))\n"
        "from kubesim.sweep import SCENARIOS\n"
        "print(kubesim.sweep is sys.modules['kubesim.sweep'].sweep)\n"
    )
    assert out.split() == ["True", "True", "True"]


def test_unknown_names_raise_attribute_error() -> None:
    import kubesim.kubectl

    for module in (kubesim, kubesim.manifests, kubesim.kubectl):
        with pytest.raises(AttributeError, match="no_such_name"):
            module.no_such_name  # noqa: B018
