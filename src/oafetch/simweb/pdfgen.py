"""Make small, valid, text-bearing PDFs for the simulated web.

Why by hand: no PDF *writer* is among our dependencies (pypdf writes, but cannot lay out
text), and what simweb needs is tiny: pages whose extractable text carries a title and a
DOI, padded to a chosen size with incompressible bytes, so validation and identity checks
run on real PDF structure.
"""

from __future__ import annotations

import random

__all__ = ["make_pdf"]


def _escape(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _wrap(text: str, width: int = 80) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines


def make_pdf(
    title: str,
    doi: str | None = None,
    *,
    pages: int = 2,
    size: int | None = None,
    seed: int = 0,
    body: str | None = None,
) -> bytes:
    """A PDF whose first page shows `title` and `doi`; padded to about `size` bytes.

    `body` replaces the default filler paragraph (used for "abstract only" or blank pages:
    pass ``body=""`` and ``title=""`` for a PDF with no extractable text).
    """
    rng = random.Random(seed)
    filler = body if body is not None else (
        "This article is part of a simulated scholarly web used to test oafetch. "
        "Introduction. Methods. Results. Discussion. References. " * 3
    )
    objects: list[bytes] = []
    n_fixed = 3  # catalog, pages, font
    page_ids = [n_fixed + 1 + 2 * i for i in range(pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i in range(pages):
        lines: list[str] = []
        if i == 0:
            lines += _wrap(title) if title else []
            if doi:
                lines.append(f"https://doi.org/{doi}")
        lines += _wrap(filler)
        if filler or title:
            lines.append(f"Page {i + 1} of {pages}")
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        ops += [f"({_escape(line)}) Tj T*" for line in lines]
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    if size:
        current = 400 + sum(len(o) + 20 for o in objects)
        pad = max(0, size - current)
        if pad:
            blob = rng.randbytes(pad)
            objects.append(b"<< /Length %d >>\nstream\n" % len(blob) + blob + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % num + obj + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
