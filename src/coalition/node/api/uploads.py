"""CSV files uploaded as a request body (PIR IDs, verification triples): one parser, so size
limits and errors read the same on every route."""

from __future__ import annotations

import io

import pandas as pd

from coalition.core.errors import InputError

__all__ = ["read_csv_upload"]


def read_csv_upload(raw: bytes, limit: int) -> pd.DataFrame:
    """``raw`` as a table of text cells (empty cells stay ``""``); :class:`InputError` if it is
    larger than ``limit`` bytes or not CSV."""
    if len(raw) > limit:
        raise InputError("the uploaded file is too large", limit=limit)
    try:
        return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError):
        raise InputError("the upload is not a CSV file", field="body") from None
