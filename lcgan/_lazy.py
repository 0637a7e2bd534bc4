"""PEP 562 lazy exports: ``import lcgan`` stays cheap until a name is used."""

import importlib


def lazy_exports(package: str, table: dict[str, str]):
    """Return a module ``__getattr__`` that imports ``name`` from ``table[name]`` on first use."""

    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(table[name]), name)

    return __getattr__
