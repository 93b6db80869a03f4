"""POST /csp-report: where browsers report what the pages' policy refused (or, with
CSP=report, would have refused). Each report becomes one warning in the server log,
so an operator sees a page the policy breaks, or markup that should not be there."""

from __future__ import annotations

import json
import logging
import time

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

log = logging.getLogger("branchline.csp")

REPORT_MAX_BYTES = 16 * 1024
# A page that breaks the policy reports on every view; the log keeps the first few a
# minute per process and counts the rest.
LOG_PER_MINUTE = 20
_window = {"start": 0.0, "logged": 0, "dropped": 0}


def _fields(body: dict) -> dict | None:
    # report-uri sends {"csp-report": {...}} (application/csp-report); the Reporting
    # API sends [{"type": "csp-violation", "body": {...}}] (application/reports+json).
    if isinstance(body, dict) and isinstance(body.get("csp-report"), dict):
        report = body["csp-report"]
        return {
            "directive": report.get("effective-directive") or report.get("violated-directive"),
            "blocked": report.get("blocked-uri"),
            "page": report.get("document-uri"),
            "source": report.get("source-file"),
            "line": report.get("line-number"),
            "sample": report.get("script-sample"),
        }
    if isinstance(body, list) and body and isinstance(body[0], dict) and isinstance(body[0].get("body"), dict):
        report = body[0]["body"]
        return {
            "directive": report.get("effectiveDirective"),
            "blocked": report.get("blockedURL"),
            "page": report.get("documentURL"),
            "source": report.get("sourceFile"),
            "line": report.get("lineNumber"),
            "sample": report.get("sample"),
        }
    return None


def _may_log() -> bool:
    now = time.monotonic()
    if now - _window["start"] >= 60:
        if _window["dropped"]:
            log.warning("%d more policy reports in the last minute were not logged", _window["dropped"])
        _window.update(start=now, logged=0, dropped=0)
    if _window["logged"] >= LOG_PER_MINUTE:
        _window["dropped"] += 1
        return False
    _window["logged"] += 1
    return True


@csrf_exempt  # browsers send reports without a token; a report changes nothing
@require_POST
def csp_report(request):
    if len(request.body) > REPORT_MAX_BYTES:
        return HttpResponse("report too large", status=413, content_type="text/plain")
    try:
        fields = _fields(json.loads(request.body))
    except ValueError:
        fields = None
    if fields is None:
        return HttpResponse("not a policy report", status=400, content_type="text/plain")
    if _may_log():
        # Values come from the browser: repr() keeps a forged one on its own log line.
        log.warning(
            "page policy refused %r: %r on %r (%r line %r) %r",
            fields["directive"], fields["blocked"], fields["page"], fields["source"], fields["line"],
            str(fields["sample"] or "")[:80],
        )
    return HttpResponse(status=204)
