"""Attachment bytes of the demo portal: PDFs (fpdf2) and images (Pillow), deterministic.

Why templates: a dossier's metadata carries each attachment's SHA-256, so the bytes must be known
when the dossier is generated — for 16,900 (or 100,000) dossiers, in seconds. Rendering one PDF per
attachment with fpdf2 takes about a millisecond each, too slow. Instead each document type is
rendered ONCE per process with fixed-width placeholders, uncompressed; a personalised document is
that template with each placeholder replaced by a value of exactly the same byte length (padded with
spaces, which print as nothing). Offsets in the PDF cross-reference table stay valid, and
personalising plus hashing takes microseconds. Images are a small set of variants rendered once.

An attachment's recipe (what to render) is encoded in its id: "<12 hex>-<recipe>", e.g.
"3f2a9c1b0d4e-pdf.invoice", "a1b2c3d4e5f6-jpg.photo.poele.2", "0a1b2c3d4e5f-bad.pdf".
The output depends only on the dossier and on the fpdf2/Pillow versions (RENDERER_VERSION).
"""

from __future__ import annotations

import io
import random
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import fpdf
import PIL
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter

from instructor_tui.domain.models import Dossier

RENDERER_VERSION = f"1/fpdf2-{fpdf.__version__}/pillow-{PIL.__version__}"
"""Changes whenever rendered bytes may change: stored hashes are recomputed when it differs."""

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

_FIXED_DATE = datetime(2022, 4, 1, tzinfo=UTC)

# A layout line: (x_mm, y_mm, font_size, style, text-or-None, field-name-or-None, max_bytes)
_Line = tuple[float, float, float, str, str | None, str | None, int]


def _static(x: float, y: float, text: str, size: float = 10, style: str = "") -> _Line:
    return (x, y, size, style, text, None, 0)


def _field(x: float, y: float, name: str, width: int = 60, size: float = 10, style: str = "") -> _Line:
    return (x, y, size, style, None, name, width)


_LAYOUTS: dict[str, list[_Line]] = {
    "invoice": [
        _field(15, 20, "seller_name", 60, 14, "B"),
        _field(15, 27, "seller_address", 80),
        _field(15, 33, "seller_siret", 60, 8),
        _static(130, 20, "FACTURE", 18, "B"),
        _field(130, 28, "invoice_number", 30),
        _static(130, 34, "Date :"),
        _field(145, 34, "invoice_date", 20),
        _static(110, 55, "Client :", 10, "B"),
        _field(110, 61, "buyer_name", 50),
        _field(110, 67, "buyer_line1", 50),
        _field(110, 73, "buyer_city", 50),
        _static(15, 95, "Désignation", 10, "B"),
        _static(160, 95, "Montant TTC", 10, "B"),
        _field(15, 103, "item", 80),
        _field(15, 109, "item_detail", 80, 9),
        _field(160, 103, "price", 20),
        _static(120, 130, "Total HT :"),
        _field(160, 130, "total_ht", 20),
        _static(120, 136, "TVA 20 % :"),
        _field(160, 136, "vat", 20),
        _static(120, 144, "Total TTC :", 11, "B"),
        _field(160, 144, "price_total", 20, 11, "B"),
        _field(15, 165, "paid_note", 80),
    ],
    "proof_of_address": [
        _field(15, 20, "supplier", 50, 14, "B"),
        _static(15, 30, "Facture d'électricité et de gaz"),
        _static(15, 36, "Date d'émission :"),
        _field(50, 36, "issue_date", 20),
        _static(110, 55, "Titulaire du contrat :", 10, "B"),
        _field(110, 61, "holder_name", 50),
        _field(110, 67, "holder_line1", 50),
        _field(110, 73, "holder_city", 50),
        _static(15, 95, "Adresse du point de livraison :", 10, "B"),
        _field(15, 101, "holder_address", 90),
        _static(15, 120, "Montant à payer :"),
        _field(60, 120, "amount", 20),
    ],
    "bank_details": [
        _static(15, 20, "RELEVÉ D'IDENTITÉ BANCAIRE", 14, "B"),
        _field(15, 30, "bank_name", 60),
        _static(15, 45, "Titulaire du compte :", 10, "B"),
        _field(15, 51, "holder_name", 60),
        _field(15, 57, "holder_line1", 60),
        _field(15, 63, "holder_city", 60),
        _static(15, 80, "IBAN :", 10, "B"),
        _field(35, 80, "iban", 40, 11),
        _static(15, 88, "BIC :", 10, "B"),
        _field(35, 88, "bic", 20, 11),
    ],
    "tax_notice": [
        _static(15, 20, "DIRECTION GÉNÉRALE DES FINANCES PUBLIQUES", 12, "B"),
        _field(15, 28, "notice_title", 60),
        _static(110, 45, "Déclarant :", 10, "B"),
        _field(110, 51, "holder_name", 50),
        _field(110, 57, "holder_line1", 50),
        _field(110, 63, "holder_city", 50),
        _static(15, 85, "Nombre de parts :"),
        _field(75, 85, "parts", 10),
        _static(15, 93, "Revenu fiscal de référence :", 10, "B"),
        _field(75, 93, "rfr", 20, 10, "B"),
        _static(15, 101, "Numéro fiscal :"),
        _field(75, 101, "tax_number", 20),
    ],
    "registration_certificate": [
        _static(15, 20, "CERTIFICAT D'IMMATRICULATION", 14, "B"),
        _static(15, 30, "RÉPUBLIQUE FRANÇAISE", 9),
        _static(15, 45, "A."),
        _field(25, 45, "plate", 12, 12, "B"),
        _static(15, 52, "B."),
        _field(25, 52, "first_registration", 12),
        _static(15, 59, "C.1"),
        _field(25, 59, "holder_name", 50),
        _static(15, 66, "C.3"),
        _field(25, 66, "holder_address", 90),
        _static(15, 73, "D.1"),
        _field(25, 73, "make", 30),
        _static(15, 80, "D.3"),
        _field(25, 80, "model", 30),
        _static(15, 87, "P.3 EL"),
        _static(15, 94, "J.1"),
        _field(25, 94, "category", 10),
    ],
    "company_registration": [
        _static(15, 20, "AVIS DE SITUATION AU RÉPERTOIRE SIRENE", 13, "B"),
        _static(15, 28, "Institut national de la statistique et des études économiques", 8),
        _field(15, 40, "company_name", 60, 12, "B"),
        _static(15, 50, "SIRET :"),
        _field(40, 50, "siret", 20),
        _static(15, 57, "Adresse :"),
        _field(40, 57, "address", 90),
        _static(15, 64, "Activité (APE) :"),
        _field(50, 64, "ape", 50),
        _static(15, 71, "État : actif au"),
        _field(50, 71, "as_of", 12),
    ],
}

_DOC_TITLES = {
    "invoice": "Facture",
    "proof_of_address": "Justificatif de domicile",
    "bank_details": "RIB",
    "tax_notice": "Avis d'impôt",
    "registration_certificate": "Certificat d'immatriculation",
    "company_registration": "Avis de situation SIRENE",
    "installation_photo": "Photo",
}


def _placeholder(index: int, width: int) -> bytes:
    head = f"~{index:03d}".encode("ascii")
    return head + b"~" * (width - len(head))


@cache
def _template(doc_type: str) -> tuple[tuple[bytes, ...], tuple[tuple[str, int], ...]]:
    """The uncompressed template PDF of a document type cut at its placeholders: the byte
    segments around them, and each placeholder's (field name, byte width)."""
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # placeholders must be findable and replaceable in place
    pdf.creation_date = _FIXED_DATE
    pdf.set_title(_DOC_TITLES[doc_type])
    pdf.add_page()
    fields: list[tuple[str, bytes]] = []
    for x, y, size, style, text, name, width in _LAYOUTS[doc_type]:
        pdf.set_font("helvetica", style, size)
        if name is None:
            pdf.text(x, y, text or "")
        else:
            holder = _placeholder(len(fields), width)
            fields.append((name, holder))
            pdf.text(x, y, holder.decode("ascii"))
    data = bytes(pdf.output())
    segments = []
    for _, holder in fields:
        if data.count(holder) != 1:  # pragma: no cover - a layout bug, caught by the tests
            raise RuntimeError(f"placeholder not unique in {doc_type} template")
        head, data = data.split(holder)
        segments.append(head)
    segments.append(data)
    return tuple(segments), tuple((name, len(holder)) for name, holder in fields)


# Controls become "?" (they have no business in a printed document); PDF string escapes.
_PDF_TEXT = str.maketrans(
    {**{i: "?" for i in (*range(0x20), *range(0x7F, 0xA0))}, "\\": "\\\\", "(": "\\(", ")": "\\)"}
)


def _pdf_literal(value: str, width: int) -> bytes:
    """`value` as PDF literal-string bytes of exactly `width` bytes (cp1252, escaped, padded)."""
    text = value[:width]  # fields may be 100 kB: cut before anything else
    # Fast path for the common case: nothing to escape or replace (isprintable is false for controls).
    if not text.isprintable() or "(" in text or ")" in text or "\\" in text:
        text = text.translate(_PDF_TEXT)
    raw = text.encode("cp1252", errors="replace")
    if len(raw) > width:
        raw = raw[:width]
        if (len(raw) - len(raw.rstrip(b"\\"))) % 2:  # never leave half an escape
            raw = raw[:-1]
    return raw.ljust(width)


def render_pdf(doc_type: str, values: dict[str, str]) -> bytes:
    """The template of `doc_type` filled with `values` (missing ones are left blank)."""
    segments, fields = _template(doc_type)
    get = values.get
    parts = [segments[0]]
    for (name, width), segment in zip(fields, segments[1:], strict=True):
        parts += (_pdf_literal(get(name, ""), width), segment)
    return b"".join(parts)


def broken_pdf() -> bytes:
    """An unreadable upload: a PDF cut off in the middle, as a failed upload leaves it."""
    data = render_pdf("invoice", {})
    return data[: len(data) // 3]


# --- Images ------------------------------------------------------------------------------------

_PHOTO_SIZE = (480, 360)


def _photo(kind: str, variant: int) -> Image.Image:
    rng = random.Random(f"{kind}/{variant}")
    sky = (rng.randrange(150, 220), rng.randrange(170, 230), rng.randrange(200, 255))
    img = Image.new("RGB", _PHOTO_SIZE, sky)
    draw = ImageDraw.Draw(img)
    floor = rng.randrange(220, 280)
    draw.rectangle((0, floor, _PHOTO_SIZE[0], _PHOTO_SIZE[1]), fill=(rng.randrange(90, 140),) * 3)
    colour = (rng.randrange(30, 220), rng.randrange(30, 220), rng.randrange(30, 220))
    if kind == "velo":
        for cx in (150, 330):
            draw.ellipse((cx - 60, floor - 120, cx + 60, floor), outline=(20, 20, 20), width=8)
        draw.line((150, floor - 60, 240, floor - 140, 330, floor - 60), fill=colour, width=10)
        draw.line((240, floor - 140, 220, floor - 180), fill=colour, width=8)
    elif kind == "poele":
        draw.rectangle((170, floor - 200, 310, floor), fill=(40, 40, 45))
        draw.rectangle((195, floor - 150, 285, floor - 70), fill=(255, rng.randrange(90, 160), 20))
        draw.rectangle((225, 20, 255, floor - 200), fill=(60, 60, 60))
    else:  # vehicule
        draw.rounded_rectangle((60, floor - 130, 420, floor - 30), radius=30, fill=colour)
        draw.polygon([(130, floor - 130), (180, floor - 190), (320, floor - 190), (370, floor - 130)], fill=colour)
        for cx in (130, 350):
            draw.ellipse((cx - 35, floor - 70, cx + 35, floor), fill=(15, 15, 15))
    noise = Image.effect_noise(_PHOTO_SIZE, 12).convert("RGB")
    return Image.blend(img, noise, 0.08)


def _scan(doc_type: str) -> Image.Image:
    rng = random.Random(f"scan/{doc_type}")
    img = Image.new("L", (420, 594), 244)
    draw = ImageDraw.Draw(img)
    # Pillow's built-in font has no accented capitals: the title is folded to ASCII.
    title = unicodedata.normalize("NFKD", _DOC_TITLES.get(doc_type, doc_type).upper())
    draw.text((30, 30), title.encode("ascii", "ignore").decode(), fill=20)
    y = 80
    while y < 560:
        draw.line((30, y, 30 + rng.randrange(120, 360), y), fill=rng.randrange(60, 120), width=2)
        y += rng.randrange(14, 30)
    return img.rotate(rng.uniform(-2.5, 2.5), fillcolor=200).filter(ImageFilter.SMOOTH)


def _encode(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        img.save(buffer, "JPEG", quality=80, optimize=False, progressive=False)
    else:
        img.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


@cache
def image_bytes(recipe: str) -> bytes:
    """jpg.photo.<kind>.<n> | png.photo.<kind>.<n> | jpg.scan.<doc_type> | png.scan.<doc_type> | bad.jpg"""
    parts = recipe.split(".")
    fmt = "PNG" if parts[0] == "png" else "JPEG"
    if parts[0] == "bad":
        rng = random.Random("bad")
        dark = Image.effect_noise((160, 120), 40).point(lambda v: v // 6)
        dark = dark.filter(ImageFilter.GaussianBlur(4)).rotate(rng.uniform(80, 100))
        return _encode(dark.convert("RGB"), "JPEG")
    if parts[1] == "photo":
        return _encode(_photo(parts[2], int(parts[3])), fmt)
    return _encode(_scan(parts[2]), fmt)


# --- Dossier -> document values ---------------------------------------------------------------


def euros(cents: int) -> str:
    """1 234,56 € the French way (plain spaces: the PDF core fonts know no narrow space)."""
    whole, frac = divmod(abs(int(cents)), 100)
    grouped = f"{whole:,}".replace(",", " ")
    return f"{'-' if cents < 0 else ''}{grouped},{frac:02d} €"


def french_date(value: Any) -> str:
    """'2022-05-14' or a date -> '14/05/2022'; anything else as given."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


def _holder(d: Dossier) -> dict[str, str]:
    # A dossier's documents are rendered one after the other: compute the holder's lines once.
    # The cache keeps the applicant object itself, so an identity match cannot be a recycled id().
    cached_applicant, cached = _holder_cache
    if cached_applicant is d.applicant:
        return cached
    a = d.applicant
    name = f"{a.first_name} {a.last_name.upper()}"
    city = f"{a.address.postcode} {a.address.city}"
    values = {
        "holder_name": a.company_name or name,
        "holder_line1": a.address.line1,
        "holder_city": city,
        "holder_address": f"{a.address.line1}, {city}",
    }
    _set_holder_cache((a, values))
    return values


_holder_cache: tuple[object, dict[str, str]] = (None, {})


def _set_holder_cache(entry: tuple[object, dict[str, str]]) -> None:
    global _holder_cache
    _holder_cache = entry  # one tuple assignment: threads see the old or the new entry, never half


def _invoice(d: Dossier) -> dict[str, str]:
    f = d.fields
    price = int(f.get("price_cents", 0))
    ht = round(price / 1.2)
    item = {
        "velo-electrique": f"Vélo à assistance électrique {f.get('bike_brand', '')} {f.get('bike_model', '')}",
        "vehicule-electrique": f"Véhicule électrique {f.get('vehicle_make', '')} {f.get('vehicle_model', '')}",
        "poele-bois": f"Poêle {f.get('stove_type', '')} {f.get('stove_brand', '')} {f.get('stove_model', '')}",
    }.get(d.scheme, "Article")
    detail = {
        "velo-electrique": f"Type : {f.get('bike_type', '')} - n° de cadre {f.get('frame_number', '')}",
        "vehicule-electrique": f"Immatriculation {f.get('registration', '')} - {f.get('condition', '')}",
        "poele-bois": f"Puissance {f.get('power_kw', '')} kW - fourniture et pose",
    }.get(d.scheme, "")
    h = _holder(d)
    return {
        "seller_name": str(f.get("seller_name", "")),
        "seller_address": str(f.get("seller_city", "")),
        "seller_siret": f"SIRET {f.get('seller_siret', '')}",
        "invoice_number": f"N° {f.get('invoice_number', '')}",
        "invoice_date": french_date(f.get("purchase_date", "")),
        "buyer_name": h["holder_name"],
        "buyer_line1": h["holder_line1"],
        "buyer_city": h["holder_city"],
        "item": item,
        "item_detail": detail,
        "price": euros(price),
        "total_ht": euros(ht),
        "vat": euros(price - ht),
        "price_total": euros(price),
        "paid_note": f"Facture acquittée le {french_date(f.get('purchase_date', ''))}",
    }


def _proof_of_address(d: Dossier) -> dict[str, str]:
    supplier = "ÉS Énergies Strasbourg" if d.applicant.address.postcode.startswith("67") else "EDF"
    rng = random.Random(d.id)
    return {
        **_holder(d),
        "supplier": supplier,
        "issue_date": french_date(d.submitted_at.date()),
        "amount": euros(rng.randrange(4000, 26000)),
    }


def _bank_details(d: Dossier) -> dict[str, str]:
    iban = d.applicant.iban.replace(" ", "")
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return {
        **_holder(d),
        "bank_name": str(d.fields.get("bank_name", "")),
        "iban": grouped,
        "bic": str(d.fields.get("bic", "")),
    }


def _tax_notice(d: Dossier) -> dict[str, str]:
    a = d.applicant
    year = d.submitted_at.year
    parts = {1: "1", 2: "2", 3: "2,5", 4: "3", 5: "3,5"}.get(a.household_size or 1, "4")
    return {
        **_holder(d),
        "holder_name": f"{a.first_name} {a.last_name.upper()}",
        "notice_title": f"AVIS D'IMPÔT {year} SUR LES REVENUS DE L'ANNÉE {year - 1}",
        "parts": parts,
        "rfr": euros(a.tax_income_cents or 0).replace(",00 €", " €"),
        "tax_number": str(d.fields.get("tax_number", "")),
    }


def _registration(d: Dossier) -> dict[str, str]:
    f = d.fields
    return {
        **_holder(d),
        "plate": str(f.get("registration", "")),
        "first_registration": french_date(f.get("first_registration_date", "")),
        "make": str(f.get("vehicle_make", "")).upper(),
        "model": str(f.get("vehicle_model", "")),
        "category": "N1" if f.get("vehicle_category") == "utilitaire" else "M1",
    }


def _company(d: Dossier) -> dict[str, str]:
    a = d.applicant
    return {
        "company_name": a.company_name,
        "siret": a.siret,
        "address": f"{a.address.line1}, {a.address.postcode} {a.address.city}",
        "ape": str(d.fields.get("activity", "")),
        "as_of": french_date(d.submitted_at.date()),
    }


_VALUES: dict[str, Callable[[Dossier], dict[str, str]]] = {
    "invoice": _invoice,
    "proof_of_address": _proof_of_address,
    "bank_details": _bank_details,
    "tax_notice": _tax_notice,
    "registration_certificate": _registration,
    "company_registration": _company,
}


def recipe_of(attachment_id: str) -> str:
    return attachment_id.split("-", 1)[1] if "-" in attachment_id else ""


def render(recipe: str, dossier: Dossier) -> bytes:
    """The bytes of an attachment of `dossier` made by `recipe` (see the module docstring)."""
    kind, _, rest = recipe.partition(".")
    if kind == "pdf":
        return render_pdf(rest, _VALUES[rest](dossier))
    if recipe == "bad.pdf":
        return broken_pdf()
    if kind in ("jpg", "png", "bad"):
        return image_bytes(recipe)
    raise KeyError(f"unknown attachment recipe {recipe!r}")
