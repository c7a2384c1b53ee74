"""The HTML report of a test-and-learn simulation (the ``report`` extra).

:func:`render_report` turns the result document of ``loyalty simulate`` (format
``loyalty-simulation/1``, docs/simulation.md) into one self-contained HTML page: the
summary and the headline totals for a marketer at a glance, then a chart per topic with
its numbers in a table. The charts are drawn by matplotlib, imported on first use.
"""

from __future__ import annotations

from loyalty.report.document import FORMAT, InvalidDocument, read_document
from loyalty.report.page import CONTENT_SECURITY_POLICY, render_report
from loyalty.report.svg import INSTALL, ReportUnavailable

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "FORMAT",
    "INSTALL",
    "InvalidDocument",
    "ReportUnavailable",
    "read_document",
    "render_report",
]
