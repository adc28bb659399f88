"""Lazily loaded names of a package (PEP 562), so that ``import kubesim`` pays only for what a
simulation runs.

A package lists the public names it loads on first use, each with the module that defines it,
and the submodules that ``package.NAME`` should reach without an ``import package.NAME``;
:func:`attach` gives it the module ``__getattr__`` and ``__dir__`` that load them. On the first
access the defining module is imported and the name becomes a plain global of the package, so
later accesses cost what any attribute costs; ``from package import NAME`` goes through the same
``__getattr__``. Type checkers see the names through ``if TYPE_CHECKING:`` imports in the
package, and the package binds ``__getattr__`` under ``if not TYPE_CHECKING:`` so that a typo in
``kubesim.NAME`` stays a type error.

One subtlety, handled by :class:`LazyPackage`: importing a submodule binds it as an attribute of
its package, so where a public name shares its module's name (:func:`kubesim.sweep` in
:mod:`kubesim.sweep`, :func:`kubesim.manifests.encode` in :mod:`kubesim.manifests.encode`), the
first ``import kubesim.sweep`` would replace the function with the module. An eager
``from kubesim.sweep import sweep`` in the package used to bind the function after the module,
for good; :class:`LazyPackage` keeps it so.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["LazyPackage", "attach"]


class LazyPackage(types.ModuleType):
    """The type :func:`attach` gives a package: binding one of its submodules under the name of
    a lazily loaded public name that module defines binds that name instead."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and self.__dict__["_LAZY"].get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


def attach(
    package: str, lazy: Mapping[str, str], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Make ``package`` (already in :data:`sys.modules`, its ``_LAZY`` global the ``lazy`` table)
    a :class:`LazyPackage` and return its ``__getattr__`` and ``__dir__``.

    ``lazy`` maps a public name to the module that defines it; ``submodules`` are names of the
    package's submodules reachable as attributes. ``__getattr__`` is ``O(1)`` plus, once per
    name, the import of its module; ``__dir__`` lists the lazily loaded names, loaded or not.
    """
    module = sys.modules[package]
    names = module.__dict__
    if names.get("_LAZY") is not lazy:
        raise ValueError(f"{package}._LAZY must be the table given to attach()")
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        source = lazy.get(name)
        if source is not None:
            value = getattr(importlib.import_module(source), name)
            names[name] = value
            return value
        if name in subs:
            return importlib.import_module(f"{package}.{name}")  # the import binds it in the package
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(names) | set(lazy) | subs)

    module.__class__ = LazyPackage
    return __getattr__, __dir__
