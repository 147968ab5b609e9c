"""Reading commissioned source files (TOML) written by :mod:`iortmc.clinical.commission`.

A commissioned source file holds a source model fitted to measured dose: the energy spectrum as a
histogram table, for electron beams the angular spread and virtual source distance, the fitted
parameters with their uncertainties, the data the fit used, its residuals and provenance. The format
is described in docs/commissioning.md. This module only reads the file (``tomllib``); it is the
loader behind :meth:`Spectrum.from_commissioned` and :meth:`ElectronBeam.from_commissioned`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["SCHEMA", "read_commissioned"]

#: Format identifier written in every commissioned source file.
SCHEMA = "iortmc-commissioned-source/1"
KINDS = ("electron_beam", "xray_spectrum")


def read_commissioned(path) -> dict:
    """The parsed content of a commissioned source file, checked for the keys a loader needs."""
    import tomllib

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read commissioned source file {str(p)!r}: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"commissioned source file {str(p)!r} is not valid TOML: {exc}") from None
    if doc.get("schema") != SCHEMA:
        raise InputError(f"{str(p)!r} is not a commissioned source file: schema = {doc.get('schema')!r}, "
                         f"expected {SCHEMA!r}")
    if doc.get("kind") not in KINDS:
        raise InputError(f"{str(p)!r}: kind must be one of {', '.join(KINDS)}, got {doc.get('kind')!r}")
    sp = doc.get("spectrum")
    if not isinstance(sp, dict) or not all(k in sp for k in ("e_lo_MeV", "e_hi_MeV", "weights")):
        raise InputError(f"{str(p)!r}: the [spectrum] table needs e_lo_MeV, e_hi_MeV and weights")
    n = len(sp["weights"])
    if len(sp["e_lo_MeV"]) != n or len(sp["e_hi_MeV"]) != n or n == 0:
        raise InputError(f"{str(p)!r}: [spectrum] e_lo_MeV, e_hi_MeV and weights must have the same "
                         f"non-zero length, got {len(sp['e_lo_MeV'])}, {len(sp['e_hi_MeV'])}, {n}")
    doc["_path"] = str(p)
    return doc
