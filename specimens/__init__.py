"""Documents made for the demo, the tests and the benchmarks; never imported by the product.

``generated`` invents Nghị định 30/2020 letters and renders them as born-digital PDFs and
scans; ``demo`` builds and ingests the demo export that ``make run`` serves.
"""
from archive_core.fonts import FontNotFound, find_fonts

from .generated import Specimen, make_specimens, render_pdf, render_pdf_bytes, render_scan

__all__ = ["FontNotFound", "Specimen", "find_fonts", "make_specimens", "render_pdf", "render_pdf_bytes", "render_scan"]
