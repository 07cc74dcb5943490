"""`python -m bench [name ...] [--flag ...]`: run bench/<name>.py's main(); with no name, run
them all. Flags go to the benchmarks whose main() takes them (`python -m bench tenants --small`)."""

import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")


def main(argv: list[str]) -> int:
    import django

    django.setup()
    here = Path(__file__).parent
    available = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_")
    )
    first_flag = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    argv, flags = argv[:first_flag], argv[first_flag:]
    names = argv or [n for n in available if hasattr(importlib.import_module(f"bench.{n}"), "main")]
    for name in names:
        if name not in available:
            print(f"unknown benchmark {name!r}; available: {', '.join(available)}")
            return 2
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            print(f"bench.{name} has no main()")
            return 2
        print(f"== bench.{name}")
        if inspect.signature(module.main).parameters:
            module.main(flags)
        else:
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
