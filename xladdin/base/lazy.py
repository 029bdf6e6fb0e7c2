"""Libraries imported when first used, not when xladdin is: a second click with nothing new, `xladdin --help`
or a 控制台 button that reads a few cells never pays for pandas (about half of a cold run at county size).

    from xladdin.base.lazy import pandas as pd   # then pd.DataFrame(...) as usual

The first attribute read imports the library and copies its names onto the stand-in, so that every later
read is a plain attribute lookup (no slower than the module itself). `isinstance(x, pd.DataFrame)` imports
pandas too: on a path meant to stay light, ask `loaded("pandas")` first.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from pathlib import Path


class LazyModule:
    """A module's stand-in that imports it on the first attribute read."""

    def __init__(self, name: str):
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str):
        module = importlib.import_module(self.__dict__["_lazy_name"])
        self.__dict__.update(vars(module))
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def loaded(name: str) -> bool:
    """Whether the library has been imported (by anyone), without importing it."""
    return name in sys.modules


@functools.cache
def installed_version(name: str) -> str:
    """The installed version of a library, from its package metadata's folder name, without importing it
    (or importlib.metadata, slower than the rest of a second click): for keys that must change on upgrade."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return ""
    folder = Path(spec.origin).parent.parent
    found = sorted(folder.glob(f"{name}-*.dist-info"))
    return found[-1].name[len(name) + 1:-len(".dist-info")] if found else str(spec.origin)


pandas = LazyModule("pandas")
numpy = LazyModule("numpy")
