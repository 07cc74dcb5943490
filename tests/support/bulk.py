"""What the tests of COPY share: which tables were written by `core.bulk.copy_rows`."""

import core.bulk
import core.events


def copied_tables(monkeypatch) -> list[str]:
    """The tables written by COPY from now on (core.bulk.copy_rows, wherever it is called)."""
    real, copied = core.bulk.copy_rows, []

    def copy_rows(model, columns, rows):
        copied.append(model._meta.db_table)
        return real(model, columns, rows)

    for module in (core.bulk, core.events):
        monkeypatch.setattr(module, "copy_rows", copy_rows)
    return copied
