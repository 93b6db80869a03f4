"""Lists for the branch's records (台账) as CSV that spreadsheet programs open as they
are: UTF-8 with a byte-order mark (else Excel reads the Chinese as another encoding),
one header row, then the rows."""

from __future__ import annotations

import csv
import io
from typing import Iterable

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def csv_text(header: Iterable, rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_download(filename: str, header: Iterable, rows: Iterable[Iterable]) -> HttpResponse:
    """The list as a file to save, named `filename` (any script: the header encodes it)."""
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response

