"""The statistics as a CSV file in the profile's data directory (the screen shows its path)."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path

from instructor_tui.domain.statistics import EXPORT_HEADER, Statistics, export_rows


def export_name(at: datetime) -> str:
    return f"statistiques-{at.strftime('%Y%m%d-%H%M%S')}.csv"


def write_csv(stats: Statistics, directory: Path, at: datetime) -> Path:
    """Write every figure (domain.statistics.export_rows) to a new file in `directory`; returns its
    path. The file is private (0600): with per-agent figures it speaks about colleagues."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / export_name(at)
    suffix = 1
    while path.exists():
        path = directory / f"{path.stem.split('~')[0]}~{suffix}.csv"
        suffix += 1
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(export_rows(stats))
    return path
