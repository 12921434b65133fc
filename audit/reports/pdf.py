"""Print report HTML to PDF with WeasyPrint, one process per core, fetching nothing.

The reports inline everything they need, so WeasyPrint never has a reason to fetch.
``BundledAssetFetcher`` makes that a guarantee rather than a hope: it serves the
bundled stylesheets and images by name (``pd-audit-asset:report.css``) and refuses
every other URL (``http:``, ``https:``, ``file:``, ``data:``), recording what it
refused. So a ``url()`` or an ``<img src=file:///etc/passwd>`` smuggled into a
PagerDuty name cannot make the PDF read a local file or call the network.

PDFs are independent, so ``write_pdfs`` renders them in a process pool (WeasyPrint
is CPU-bound pure Python; threads would serialise on the GIL). Workers fork from a
forkserver that has already imported WeasyPrint, so starting one costs milliseconds.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import multiprocessing
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from audit.reports.forked import usable_cores as default_workers  # the benchmarks size their pools by it
from audit.safe_write import write_file

ASSET_SCHEME = "pd-audit-asset:"
ASSET_PACKAGE = "audit.report_templates"
ASSET_TYPES = {".css": "text/css", ".svg": "image/svg+xml"}
PDF_VARIANT = "pdf/ua-1"


class RefusedURL(ValueError):
    """A report asked for something that is not a bundled asset."""


class BundledAssetFetcher(URLFetcher):
    """Serves ``pd-audit-asset:NAME`` from the report templates package; refuses everything else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        name = url[len(ASSET_SCHEME):] if url.startswith(ASSET_SCHEME) else ""
        suffix = Path(name).suffix
        if not name or "/" in name or "\\" in name or name.startswith(".") or suffix not in ASSET_TYPES:
            self.refused.append(url)
            raise RefusedURL(f"reports fetch nothing but bundled assets; refused {url[:200]!r}")
        resource = importlib.resources.files(ASSET_PACKAGE) / name
        if not resource.is_file():
            self.refused.append(url)
            raise RefusedURL(f"no bundled asset {name!r}")
        return URLFetcherResponse(url, resource.read_bytes(), {"Content-Type": ASSET_TYPES[suffix]})


@dataclasses.dataclass(frozen=True)
class PdfJob:
    html: str
    path: Path


@dataclasses.dataclass(frozen=True)
class PdfResult:
    path: Path
    pages: int
    refused: tuple[str, ...]  # URLs the document asked for and did not get (should be none)


class ScreenOnlyCss(logging.Filter):
    """Drops WeasyPrint's notes on the screen-only rules of our own stylesheet (sticky headers,
    scrolling tables, the phone layout): expected, and noise on a user's terminal."""

    NOTES = ("Ignored `", "Invalid media type", "Expected a media type")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOTES)


def render_pdf(job: PdfJob) -> PdfResult:
    """One document, written atomically (a reader never sees half a PDF)."""
    fetcher = BundledAssetFetcher()
    quiet = ScreenOnlyCss()
    logger = logging.getLogger("weasyprint")
    logger.addFilter(quiet)
    try:
        document = weasyprint.HTML(string=job.html, url_fetcher=fetcher, base_url=ASSET_SCHEME).render()
    finally:
        logger.removeFilter(quiet)
    # Tagged PDF/UA-1: headings, tables and reading order for screen readers (WeasyPrint's tagging).
    write_file(job.path, document.write_pdf(pdf_variant=PDF_VARIANT), what="PDF report")
    return PdfResult(job.path, len(document.pages), tuple(fetcher.refused))


# The forkserver listens on a Unix socket at $TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX, and such a path
# may hold at most 107 bytes: with a longer $TMPDIR the server cannot start.
_FORKSERVER_PATH_EXTRA = len("/pymp-XXXXXXXX/listener-XXXXXXXX")
_UNIX_SOCKET_PATH_MAX = 107


def pool_context() -> multiprocessing.context.BaseContext:
    """A forkserver that has imported WeasyPrint, or plain spawn where $TMPDIR is too long for its socket."""
    if len(tempfile.gettempdir()) + _FORKSERVER_PATH_EXTRA > _UNIX_SOCKET_PATH_MAX:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["audit.reports.pdf"])
    return context


def write_pdfs(jobs: Sequence[PdfJob], workers: int | None = None) -> list[PdfResult]:
    """Render every job; in parallel across ``workers`` processes (default: the usable cores).

    Results come back in the order of ``jobs``. With one worker, or one job, everything
    runs in this process.
    """
    workers = min(workers or default_workers(), len(jobs))
    if workers <= 1:
        return [render_pdf(job) for job in jobs]
    # Biggest documents first, so the pool does not end waiting on one long straggler.
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i].html))
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
        rendered = dict(zip(order, pool.map(render_pdf, [jobs[i] for i in order])))
    return [rendered[i] for i in range(len(jobs))]
