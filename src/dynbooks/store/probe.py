"""``python -m dynbooks.store.probe URL``: exit 0 if the database answers (used by ``make test``)."""

from __future__ import annotations

import sys

from sqlalchemy import text

from dynbooks.store.db import connect


def main() -> int:
    try:
        with connect(sys.argv[1]).connect() as conn:
            conn.execute(text("select 1"))
    except Exception:  # any failure means "not available"; the message is not needed
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
