"""Reading import CSV files (SPEC §9 "CSV files", §10 "Imports"): typed rows and every bad row named.

Pure: nothing here touches a database; ``services`` checks ids against the store and calls
``reject_rows`` for what it finds.
"""

from dynbooks.ingest.mapping import read_mapping
from dynbooks.ingest.model import KINDS, IngestError, ParsedFile, RowError
from dynbooks.ingest.presets import PRESETS
from dynbooks.ingest.reader import derive_id, read_csv, read_csv_text
from dynbooks.ingest.rejects import reject_rows, write_rejects
from dynbooks.ingest.values import NULLS, normalise_domain, salesforce_id

__all__ = [
    "KINDS",
    "NULLS",
    "PRESETS",
    "IngestError",
    "ParsedFile",
    "RowError",
    "derive_id",
    "normalise_domain",
    "read_csv",
    "read_csv_text",
    "read_mapping",
    "reject_rows",
    "salesforce_id",
    "write_rejects",
]
