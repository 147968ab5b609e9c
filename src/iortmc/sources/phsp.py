"""IAEA phase-space files: reader, writer and a phase-space source.

The IAEA format (R. Capote, R. Jeraj, C.-M. Ma, D. W. O. Rogers, F. Sanchez-Doblado, J. Sempau,
J. Seuntjens and J. V. Siebers, *Phase-space database for external beam radiotherapy*, IAEA report
INDC(NDS)-0484, Vienna, 2006) stores a phase space as two files with the same base name:

``name.IAEAheader``
    Text. Sections start with a line ``$KEYWORD:``; the lines up to the next section are its value;
    ``//`` starts a comment. The sections used here:

    * ``$RECORD_CONTENTS``: whether X, Y, Z, U, V, W and the weight are stored (1) or constant (0),
      the number of extra floats and of extra longs, then one type code per extra float
      (0 generic, 1 XLAST, 2 YLAST, 3 ZLAST) and per extra long (0 generic, 1 incremental history
      number, 2 EGS LATCH, 3-7 PENELOPE ILB5..ILB1);
    * ``$RECORD_CONSTANT``: the values of the quantities that are not stored, in the order X, Y, Z,
      U, V, W, weight (a missing weight constant means 1);
    * ``$RECORD_LENGTH``: bytes per record; ``$BYTE_ORDER``: 1234 little endian, 4321 big endian;
    * ``$PARTICLES``: number of records; ``$PHOTONS``, ``$ELECTRONS``, ``$POSITRONS``,
      ``$NEUTRONS``, ``$PROTONS``: records per particle type (optional);
    * ``$ORIG_HISTORIES``: primary histories simulated to make the file (dose per history must be
      normalised by this number, not by the number of records);
    * ``$CHECKSUM``: size of the data file in bytes (record length times particles), optional;
    * ``$FILE_TYPE``: 0 (a phase-space file; 1, an event generator, is not supported).

``name.IAEAphsp``
    Binary, fixed-length records, no file header. Each record holds, packed without padding:

    1. particle type, signed 1-byte integer: 1 photon, 2 electron, 3 positron, 4 neutron,
       5 proton; **a negative type means that the direction cosine w is negative**;
    2. kinetic energy, float32 in MeV; **a negative energy marks the first particle of a new
       history**;
    3. x, y, z (float32, cm), each only if stored;
    4. u, v (float32), each only if stored; w is never stored: w = +-sqrt(1 - u^2 - v^2) with the
       sign of the particle type byte (or the constant W when W is not stored);
    5. weight (float32), if stored;
    6. the extra floats (float32), then the extra longs (int32).

These sign conventions follow the IAEA reference library (``iaea_record``) as documented in the
report and as implemented by independent readers (e.g. ParticleZoo).

Simplifications: event generators ($FILE_TYPE 1) and PDP byte order are not supported; a header that
flags W as not stored while U and V are stored is read with w derived from u and v (several writers
set that flag so); records must have exactly the length implied by $RECORD_CONTENTS.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["PHSP_DTYPE", "PARTICLE_CODES", "IAEAHeader", "PhaseSpace", "PhaseSpaceSource",
           "read_iaea_phsp", "read_iaea_header", "write_iaea_phsp"]

#: IAEA particle type codes.
PARTICLE_CODES = {1: "photon", 2: "electron", 3: "positron", 4: "neutron", 5: "proton"}
_COUNT_SECTIONS = {1: "PHOTONS", 2: "ELECTRONS", 3: "POSITRONS", 4: "NEUTRONS", 5: "PROTONS"}

#: In-memory particle record (native byte order, float64): type code, kinetic energy (MeV),
#: position (cm), direction cosines, statistical weight, first-particle-of-a-new-history flag.
PHSP_DTYPE = np.dtype([("type", "i1"), ("energy", "f8"), ("x", "f8"), ("y", "f8"), ("z", "f8"),
                       ("u", "f8"), ("v", "f8"), ("w", "f8"), ("weight", "f8"),
                       ("new_history", "?")])

_VARS = ("x", "y", "z", "u", "v", "w", "weight")
_EXTRA_FLOAT_TYPES = {0: "generic", 1: "XLAST", 2: "YLAST", 3: "ZLAST"}
_EXTRA_LONG_TYPES = {0: "generic", 1: "incremental history number", 2: "EGS LATCH",
                     3: "PENELOPE ILB5", 4: "PENELOPE ILB4", 5: "PENELOPE ILB3", 6: "PENELOPE ILB2",
                     7: "PENELOPE ILB1"}
_BYTE_ORDERS = {1234: "<", 4321: ">"}
_SECTION = re.compile(r"^\s*\$([A-Za-z0-9_ ]+):(.*)$")


# ------------------------------------------------------------------------------------ paths
def _paths(path) -> tuple[Path, Path]:
    """(header, data) paths from a base name, a header path or a data path."""
    try:
        p = Path(path)
    except TypeError:
        raise InputError(f"path must be a file name (str or Path), got {path!r}") from None
    suffix = p.suffix
    if suffix in (".IAEAheader", ".IAEAphsp"):
        base = p.with_suffix("")
    else:
        base = p
    return Path(str(base) + ".IAEAheader"), Path(str(base) + ".IAEAphsp")


# ------------------------------------------------------------------------------------ header
@dataclass
class IAEAHeader:
    """The parts of a ``.IAEAheader`` file that describe the records.

    Attributes
    ----------
    path : Path
        The header file.
    stored : dict
        ``{"x": bool, ..., "weight": bool}``: quantity stored in each record (True) or constant.
    constants : dict
        Values (cm for x, y, z) of the quantities that are not stored.
    extra_float_types, extra_long_types : list of int
        IAEA type code of each extra float / extra long.
    record_length : int
        Bytes per record.
    byte_order : str
        ``'<'`` (little endian, 1234) or ``'>'`` (big endian, 4321).
    particles : int
        Number of records ($PARTICLES).
    original_histories : int or None
        Primary histories behind the file ($ORIG_HISTORIES).
    counts : dict
        Records per particle name where the header gives them.
    checksum : int or None
        Expected data file size in bytes ($CHECKSUM).
    title, iaea_index : str
    sections : dict
        Every section's raw text (comments removed), by keyword.
    """

    path: Path
    stored: dict
    constants: dict
    extra_float_types: list
    extra_long_types: list
    record_length: int
    byte_order: str
    particles: int
    original_histories: int | None = None
    counts: dict = field(default_factory=dict)
    checksum: int | None = None
    title: str = ""
    iaea_index: str = ""
    sections: dict = field(default_factory=dict)

    @property
    def w_derived(self) -> bool:
        """True when w is computed from u, v and the sign of the type byte (W "stored")."""
        return self.stored["w"]

    @property
    def minimum_record_length(self) -> int:
        n = sum(self.stored[k] for k in ("x", "y", "z", "u", "v", "weight"))
        return 1 + 4 + 4 * (n + len(self.extra_float_types) + len(self.extra_long_types))

    def record_dtype(self) -> np.dtype:
        """Packed numpy dtype of one binary record (file byte order)."""
        bo = self.byte_order
        names, formats, offsets = ["type", "energy"], ["i1", bo + "f4"], [0, 1]
        off = 5
        for k in ("x", "y", "z", "u", "v", "weight"):
            if self.stored[k]:
                names.append(k)
                formats.append(bo + "f4")
                offsets.append(off)
                off += 4
        for i in range(len(self.extra_float_types)):
            names.append(f"extra_float_{i}")
            formats.append(bo + "f4")
            offsets.append(off)
            off += 4
        for i in range(len(self.extra_long_types)):
            names.append(f"extra_long_{i}")
            formats.append(bo + "i4")
            offsets.append(off)
            off += 4
        return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                         "itemsize": self.record_length})


def _sections(text: str) -> dict:
    out: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        body = line.split("//", 1)[0].rstrip()
        m = _SECTION.match(body)
        if m:
            key = m.group(1).strip().upper()
            out[key] = []
            rest = m.group(2).strip()
            if rest:
                out[key].append(rest)
        elif key is not None and body.strip():
            out[key].append(body.strip())
    return {k: "\n".join(v) for k, v in out.items()}


def _numbers(text: str, kind, where: str, name: str) -> list:
    vals = []
    for tok in text.replace(",", " ").split():
        try:
            vals.append(kind(tok))
        except ValueError:
            raise InputError(f"IAEA header {where}: ${name} must hold numbers, found {tok!r}") from None
    return vals


def _int_section(sec: dict, name: str, where: str, required: bool = True, minimum: int = 0):
    if name not in sec:
        if required:
            raise InputError(f"IAEA header {where}: required section ${name} is missing")
        return None
    vals = _numbers(sec[name], float, where, name)
    if len(vals) != 1 or vals[0] != int(vals[0]) or vals[0] < minimum:
        raise InputError(f"IAEA header {where}: ${name} must be one integer >= {minimum}, "
                         f"got {sec[name]!r}")
    return int(vals[0])


def read_iaea_header(path) -> IAEAHeader:
    """Parse an IAEA header (``base``, ``base.IAEAheader`` or ``base.IAEAphsp`` accepted).

    Raises
    ------
    InputError
        The file cannot be read, a required section is missing or malformed, or the record
        length does not match the record contents. The message names the file and the problem.
    """
    hpath, _ = _paths(path)
    where = repr(str(hpath))
    try:
        text = hpath.read_text(errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read IAEA header {where}: {exc.strerror or exc}") from None
    sec = _sections(text)
    if not sec:
        raise InputError(f"IAEA header {where}: no $SECTION: lines found (not an IAEA header?)")

    ftype = _int_section(sec, "FILE_TYPE", where, required=False)
    if ftype not in (None, 0):
        raise InputError(f"IAEA header {where}: $FILE_TYPE {ftype} is not supported "
                         "(expected 0, a phase-space file; 1 is an event generator)")

    if "RECORD_CONTENTS" not in sec:
        raise InputError(f"IAEA header {where}: required section $RECORD_CONTENTS is missing")
    rc = _numbers(sec["RECORD_CONTENTS"], float, where, "RECORD_CONTENTS")
    if len(rc) < 9 or any(v != int(v) for v in rc):
        raise InputError(f"IAEA header {where}: $RECORD_CONTENTS must hold at least 9 integers "
                         f"(7 stored flags, number of extra floats, number of extra longs), got {rc}")
    rc = [int(v) for v in rc]
    flags = rc[:7]
    if any(f not in (0, 1) for f in flags):
        raise InputError(f"IAEA header {where}: the first 7 values of $RECORD_CONTENTS (X, Y, Z, U, "
                         f"V, W, weight stored?) must be 0 or 1, got {flags}")
    nf, nl = rc[7], rc[8]
    if nf < 0 or nl < 0 or len(rc) != 9 + nf + nl:
        raise InputError(f"IAEA header {where}: $RECORD_CONTENTS announces {nf} extra floats and {nl} "
                         f"extra longs, so it must hold {9 + max(nf, 0) + max(nl, 0)} values; "
                         f"got {len(rc)}")
    eft, elt = rc[9:9 + nf], rc[9 + nf:]
    stored = dict(zip(_VARS, (bool(f) for f in flags)))
    if stored["u"] and stored["v"]:
        stored["w"] = True   # w follows from u, v and the type sign; some writers flag it 0 anyway

    constants: dict[str, float] = {}
    missing = [k for k in _VARS if not stored[k]]
    if missing:
        cvals = _numbers(sec.get("RECORD_CONSTANT", ""), float, where, "RECORD_CONSTANT")
        need = [k for k in missing if k != "weight"]
        if len(cvals) < len(need):
            raise InputError(f"IAEA header {where}: $RECORD_CONSTANT must give the constant values of "
                             f"{', '.join(need)} (not stored), got {len(cvals)} values")
        for k, v in zip(missing, cvals):
            constants[k] = v
        if not stored["weight"] and "weight" not in constants:
            constants["weight"] = 1.0
        if not all(math.isfinite(v) for v in constants.values()):
            raise InputError(f"IAEA header {where}: $RECORD_CONSTANT values must be finite, got "
                             f"{constants}")

    reclen = _int_section(sec, "RECORD_LENGTH", where, minimum=1)
    bo_code = _int_section(sec, "BYTE_ORDER", where)
    if bo_code not in _BYTE_ORDERS:
        raise InputError(f"IAEA header {where}: $BYTE_ORDER must be 1234 (little endian) or 4321 "
                         f"(big endian), got {bo_code}")
    particles = _int_section(sec, "PARTICLES", where)
    hdr = IAEAHeader(path=hpath, stored=stored, constants=constants, extra_float_types=eft,
                     extra_long_types=elt, record_length=reclen, byte_order=_BYTE_ORDERS[bo_code],
                     particles=particles,
                     original_histories=_int_section(sec, "ORIG_HISTORIES", where, required=False),
                     checksum=_int_section(sec, "CHECKSUM", where, required=False),
                     title=sec.get("TITLE", "").strip(), iaea_index=sec.get("IAEA_INDEX", "").strip(),
                     sections=sec)
    for code, name in _COUNT_SECTIONS.items():
        n = _int_section(sec, name, where, required=False)
        if n is not None:
            hdr.counts[PARTICLE_CODES[code]] = n
    if reclen != hdr.minimum_record_length:
        raise InputError(f"IAEA header {where}: $RECORD_LENGTH is {reclen} bytes but $RECORD_CONTENTS "
                         f"implies {hdr.minimum_record_length} (1 type byte + 4 per float/long)")
    return hdr


# ------------------------------------------------------------------------------------ phase space
@dataclass
class PhaseSpace:
    """Particles read from (or to be written to) an IAEA phase-space file.

    Attributes
    ----------
    particles : ndarray of :data:`PHSP_DTYPE`
        One row per record: ``type`` (1 photon, 2 electron, 3 positron, 4 neutron, 5 proton),
        ``energy`` (kinetic, MeV, > 0), ``x, y, z`` (cm), ``u, v, w`` (direction cosines),
        ``weight``, ``new_history`` (True for the first particle of a history).
    original_histories : int
        Primary histories behind the file ($ORIG_HISTORIES; the number of new-history flags when the
        header does not give it).
    extra_floats : ndarray, shape (n, n_extra_floats), float32
    extra_longs : ndarray, shape (n, n_extra_longs), int32
    extra_float_types, extra_long_types : list of int
        IAEA type codes of the extra columns.
    header : IAEAHeader or None
        The header the particles were read with.
    """

    particles: np.ndarray
    original_histories: int
    extra_floats: np.ndarray | None = None
    extra_longs: np.ndarray | None = None
    extra_float_types: list = field(default_factory=list)
    extra_long_types: list = field(default_factory=list)
    header: IAEAHeader | None = None

    def __len__(self) -> int:
        return int(self.particles.shape[0])

    @property
    def n_new_histories(self) -> int:
        """Records flagged as the first particle of a history."""
        return int(np.count_nonzero(self.particles["new_history"]))

    def counts(self) -> dict:
        """Number of records per particle name."""
        t = self.particles["type"]
        return {PARTICLE_CODES[c]: int(np.count_nonzero(t == c)) for c in PARTICLE_CODES
                if np.any(t == c)}

    def describe(self) -> dict:
        p = self.particles
        per = {}
        for code, name in PARTICLE_CODES.items():
            sel = p["type"] == code
            if np.any(sel):
                w = p["weight"][sel]
                per[name] = {"records": int(sel.sum()), "total_weight": float(w.sum()),
                             "mean_energy_MeV": float(np.sum(w * p["energy"][sel]) / w.sum())
                             if w.sum() > 0 else math.nan,
                             "max_energy_MeV": float(p["energy"][sel].max())}
        return {"records": len(self), "original_histories": self.original_histories,
                "new_histories": self.n_new_histories, "particles": per,
                "file": str(self.header.path) if self.header is not None else None}


def _new_particles(n: int) -> np.ndarray:
    return np.zeros(n, dtype=PHSP_DTYPE)


def read_iaea_phsp(path, max_particles: int | None = None) -> PhaseSpace:
    """Read an IAEA phase space.

    Parameters
    ----------
    path : str or Path
        Base name (``beam`` for ``beam.IAEAheader`` and ``beam.IAEAphsp``) or either file's path.
    max_particles : int, optional
        Read only the first records (the whole file is still checked against the header).

    Returns
    -------
    PhaseSpace

    Raises
    ------
    InputError
        Unreadable header or data file, bad header sections, a record length that disagrees with
        the record contents, a data file that is not a whole number of records or holds another
        number of records than $PARTICLES (truncated files), a size that disagrees with $CHECKSUM,
        unknown particle types or non-finite values. Messages name the file and the problem.

    Notes
    -----
    Capote et al., IAEA INDC(NDS)-0484 (2006). Energies are kinetic, MeV; positions cm. Direction
    cosines are renormalised only through w (u and v are kept as stored; 1 - u^2 - v^2 below zero
    from float32 rounding is clipped to 0, values beyond 1e-3 of that are an error).
    """
    hdr = read_iaea_header(path)
    _, dpath = _paths(path)
    where = repr(str(dpath))
    try:
        size = dpath.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read IAEA phase-space data {where}: {exc.strerror or exc}") from None
    if hdr.checksum is not None and hdr.checksum != size:
        raise InputError(f"IAEA phase space {where}: file size {size} bytes differs from $CHECKSUM "
                         f"{hdr.checksum} bytes in the header (truncated or wrong file?)")
    if size % hdr.record_length:
        raise InputError(f"IAEA phase space {where}: size {size} bytes is not a whole number of "
                         f"{hdr.record_length}-byte records (truncated file?)")
    n_file = size // hdr.record_length
    if n_file != hdr.particles:
        raise InputError(f"IAEA phase space {where}: holds {n_file} records but the header says "
                         f"$PARTICLES {hdr.particles} (truncated file?)")
    n = n_file
    if max_particles is not None:
        if int(max_particles) != max_particles or max_particles < 0:
            raise InputError(f"max_particles must be an integer >= 0, got {max_particles!r}")
        n = min(n, int(max_particles))
    try:
        raw = np.fromfile(dpath, dtype=hdr.record_dtype(), count=n)
    except OSError as exc:
        raise InputError(f"cannot read IAEA phase-space data {where}: {exc.strerror or exc}") from None
    if raw.shape[0] != n:
        raise InputError(f"IAEA phase space {where}: could read only {raw.shape[0]} of {n} records")

    p = _new_particles(n)
    t = raw["type"].astype(np.int16)
    at = np.abs(t)
    bad = ~np.isin(at, list(PARTICLE_CODES))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise InputError(f"IAEA phase space {where}: record {i} has particle type {int(t[i])}; "
                         f"expected +-1 to +-5 ({', '.join(PARTICLE_CODES.values())})")
    p["type"] = at
    e = raw["energy"].astype(np.float64)
    p["new_history"] = np.signbit(e)
    p["energy"] = np.abs(e)
    for k in ("x", "y", "z", "u", "v", "weight"):
        p[k] = raw[k] if hdr.stored[k] else hdr.constants[k]
    if hdr.w_derived:
        s = 1.0 - p["u"] ** 2 - p["v"] ** 2
        if np.any(s < -1e-3):
            i = int(np.argmax(s < -1e-3))
            raise InputError(f"IAEA phase space {where}: record {i} has u^2 + v^2 = {1 - s[i]:.6g} > 1")
        p["w"] = np.where(t < 0, -1.0, 1.0) * np.sqrt(np.maximum(s, 0.0))
    else:
        p["w"] = hdr.constants["w"]
    for k in ("energy", "x", "y", "z", "u", "v", "weight"):
        finite = np.isfinite(p[k])
        if not np.all(finite):
            i = int(np.argmin(finite))
            raise InputError(f"IAEA phase space {where}: record {i} has a non-finite {k} ({p[k][i]})")

    for name, expected in hdr.counts.items():
        if max_particles is None:
            got = int(np.count_nonzero(p["type"] == {v: k for k, v in PARTICLE_CODES.items()}[name]))
            if got != expected:
                warnings.warn(f"IAEA phase space {where}: {got} {name} records, header says {expected}",
                              stacklevel=2)
    ef = (np.stack([raw[f"extra_float_{i}"].astype(np.float32) for i in range(len(hdr.extra_float_types))],
                   axis=1) if hdr.extra_float_types else np.zeros((n, 0), np.float32))
    el = (np.stack([raw[f"extra_long_{i}"].astype(np.int32) for i in range(len(hdr.extra_long_types))],
                   axis=1) if hdr.extra_long_types else np.zeros((n, 0), np.int32))
    orig = hdr.original_histories
    if orig is None:
        orig = int(np.count_nonzero(p["new_history"]))
    return PhaseSpace(particles=p, original_histories=int(orig), extra_floats=ef, extra_longs=el,
                      extra_float_types=list(hdr.extra_float_types),
                      extra_long_types=list(hdr.extra_long_types), header=hdr)


# ------------------------------------------------------------------------------------ writer
def _as_particles(particles) -> np.ndarray:
    if isinstance(particles, PhaseSpace):
        particles = particles.particles
    a = np.asarray(particles)
    if a.dtype.names is None or not set(PHSP_DTYPE.names) <= set(a.dtype.names):
        raise InputError("particles must be a PhaseSpace or a structured array with the fields "
                         f"{', '.join(PHSP_DTYPE.names)} (iortmc.sources.phsp.PHSP_DTYPE)")
    if a.ndim != 1:
        raise InputError(f"particles must be one-dimensional, got shape {a.shape}")
    return a


def write_iaea_phsp(path, particles, *, original_histories: int | None = None, constant=None,
                    extra_floats=None, extra_float_types=None, extra_longs=None, extra_long_types=None,
                    byte_order: str = "little", title: str = "phase space written by iortmc",
                    iaea_index: str = "1000") -> tuple[Path, Path]:
    """Write an IAEA phase space (``path.IAEAheader`` and ``path.IAEAphsp``).

    Parameters
    ----------
    path : str or Path
        Base name (an ``.IAEAheader`` or ``.IAEAphsp`` suffix is dropped).
    particles : PhaseSpace or ndarray of :data:`PHSP_DTYPE`
        Types 1-5, kinetic energies (MeV, > 0), positions (cm), unit direction vectors, weights,
        new-history flags. A PhaseSpace also supplies the defaults of the arguments below.
    original_histories : int, optional
        $ORIG_HISTORIES (default: the number of new-history flags).
    constant : dict, optional
        Quantities written as constants instead of per record, e.g. ``{"z": 0.0}`` for a scoring
        plane; keys among x, y, z, u, v, w, weight. Every particle must hold that value (to float32
        precision). A constant w needs constant u and v.
    extra_floats, extra_longs : array (n, k), optional
        Extra float32 / int32 columns, with their IAEA type codes in ``extra_float_types`` (0
        generic, 1-3 XLAST, YLAST, ZLAST) and ``extra_long_types`` (0 generic, 1 incremental history
        number, 2 LATCH, 3-7 ILB5..ILB1).
    byte_order : {'little', 'big'}
    title, iaea_index : str
        $TITLE and $IAEA_INDEX.

    Returns
    -------
    (header_path, data_path)
    """
    src = particles if isinstance(particles, PhaseSpace) else None
    p = _as_particles(particles)
    n = p.shape[0]
    if byte_order not in ("little", "big"):
        raise InputError(f"byte_order must be 'little' or 'big', got {byte_order!r}")
    bo = "<" if byte_order == "little" else ">"
    types = np.asarray(p["type"]).astype(np.int64)
    if np.any(~np.isin(types, list(PARTICLE_CODES))):
        bad = types[~np.isin(types, list(PARTICLE_CODES))][0]
        raise InputError(f"particle type must be 1-5 ({', '.join(PARTICLE_CODES.values())}), got {bad}")
    for k in ("energy", "x", "y", "z", "u", "v", "w", "weight"):
        if not np.all(np.isfinite(p[k])):
            raise InputError(f"particles: {k} must be finite")
    if np.any(p["energy"] <= 0):
        raise InputError(f"particle energies must be > 0 MeV, got {float(p['energy'].min())}")
    norm = p["u"] ** 2 + p["v"] ** 2 + p["w"] ** 2
    if np.any(np.abs(norm - 1.0) > 1e-5):
        i = int(np.argmax(np.abs(norm - 1.0)))
        raise InputError(f"particle {i}: direction (u, v, w) must be a unit vector, |d|^2 = {norm[i]:.8g}")

    constant = dict(constant or {})
    for k, v in constant.items():
        if k not in _VARS:
            raise InputError(f"constant keys must be among {', '.join(_VARS)}, got {k!r}")
        if not math.isfinite(float(v)):
            raise InputError(f"constant {k} must be finite, got {v!r}")
        if n and np.any(np.abs(p[k] - float(v)) > 1e-6 * max(1.0, abs(float(v)))):
            raise InputError(f"constant {k}={v} but the particles' {k} varies (from "
                             f"{float(p[k].min())} to {float(p[k].max())})")
    if "w" in constant and not ("u" in constant and "v" in constant):
        raise InputError("a constant w needs constant u and v (otherwise w is derived from u and v)")
    stored = {k: k not in constant for k in _VARS}

    if src is not None:
        if original_histories is None:
            original_histories = src.original_histories
        if extra_floats is None and src.extra_floats is not None and src.extra_floats.shape[1]:
            extra_floats, extra_float_types = src.extra_floats, src.extra_float_types
        if extra_longs is None and src.extra_longs is not None and src.extra_longs.shape[1]:
            extra_longs, extra_long_types = src.extra_longs, src.extra_long_types
    if original_histories is None:
        original_histories = int(np.count_nonzero(p["new_history"]))
    if int(original_histories) != original_histories or original_histories < 0:
        raise InputError(f"original_histories must be an integer >= 0, got {original_histories!r}")

    def _extra(arr, codes, name, dt, known):
        if arr is None:
            if codes:
                raise InputError(f"{name}_types given without {name}s")
            return np.zeros((n, 0), dt), []
        a = np.asarray(arr)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] != n:
            raise InputError(f"{name}s must have shape (n_particles={n}, k), got {a.shape}")
        codes = [0] * a.shape[1] if codes is None else [int(c) for c in codes]
        if len(codes) != a.shape[1] or any(c not in known for c in codes):
            raise InputError(f"{name}_types must give one code in {sorted(known)} per column "
                             f"({a.shape[1]}), got {codes}")
        return a.astype(dt), codes

    ef, eft = _extra(extra_floats, extra_float_types, "extra_float", np.float32, _EXTRA_FLOAT_TYPES)
    el, elt = _extra(extra_longs, extra_long_types, "extra_long", np.int32, _EXTRA_LONG_TYPES)

    hpath, dpath = _paths(path)
    hdr = IAEAHeader(path=hpath, stored=stored, constants={k: float(v) for k, v in constant.items()},
                     extra_float_types=eft, extra_long_types=elt, record_length=0,
                     byte_order=bo, particles=n, original_histories=int(original_histories))
    hdr.record_length = hdr.minimum_record_length
    rec = np.zeros(n, dtype=hdr.record_dtype())
    sign = np.where(p["w"] < 0, -1, 1)
    rec["type"] = (types * sign).astype(np.int8)
    rec["energy"] = np.where(p["new_history"], -1.0, 1.0) * p["energy"]
    for k in ("x", "y", "z", "u", "v", "weight"):
        if stored[k]:
            rec[k] = p[k]
    for i in range(len(eft)):
        rec[f"extra_float_{i}"] = ef[:, i]
    for i in range(len(elt)):
        rec[f"extra_long_{i}"] = el[:, i]

    hpath.parent.mkdir(parents=True, exist_ok=True)
    rec.tofile(dpath)
    hpath.write_text(_header_text(hdr, p, title, iaea_index))
    return hpath, dpath


def _header_text(hdr: IAEAHeader, p: np.ndarray, title: str, iaea_index: str) -> str:
    from .. import __version__
    labels = {"x": "X", "y": "Y", "z": "Z", "u": "U", "v": "V", "w": "W", "weight": "Weight"}
    n = p.shape[0]
    lines = ["$IAEA_INDEX:", f"   {iaea_index}", "", "$TITLE:", f"   {title}", "",
             "$FILE_TYPE:", "   0", "", "$CHECKSUM:", f"   {hdr.record_length * n}", "",
             "$RECORD_CONTENTS:"]
    for k in _VARS:
        lines.append(f"   {int(hdr.stored[k])}     // {labels[k]} is stored ?")
    lines.append(f"   {len(hdr.extra_float_types)}     // Extra floats stored ?")
    lines.append(f"   {len(hdr.extra_long_types)}     // Extra longs stored ?")
    for i, c in enumerate(hdr.extra_float_types):
        lines.append(f"   {c}     // {_EXTRA_FLOAT_TYPES[c]} variable stored in the extrafloat array [{i}]")
    for i, c in enumerate(hdr.extra_long_types):
        lines.append(f"   {c}     // {_EXTRA_LONG_TYPES[c]} variable stored in the extralong array [{i}]")
    lines += ["", "$RECORD_CONSTANT:"]
    for k in _VARS:
        if not hdr.stored[k]:
            lines.append(f"   {hdr.constants[k]:.8g}     // Constant {labels[k]}")
    lines += ["", "$RECORD_LENGTH:", f"   {hdr.record_length}", "",
              "$BYTE_ORDER:", f"   {1234 if hdr.byte_order == '<' else 4321}", "",
              "$ORIG_HISTORIES:", f"   {hdr.original_histories}", "",
              "$PARTICLES:", f"   {n}", ""]
    for code, name in _COUNT_SECTIONS.items():
        c = int(np.count_nonzero(p["type"] == code))
        if c:
            lines += [f"${name}:", f"   {c}", ""]
    lines += ["$MONTE_CARLO_CODE_VERSION:", f"   iortmc {__version__}", "",
              "$STATISTICAL_INFORMATION_PARTICLES:",
              "//   total weight     Wmin       Wmax    <E> (MeV)   Emin (MeV)  Emax (MeV)  particle"]
    for code, name in _COUNT_SECTIONS.items():
        sel = p["type"] == code
        if np.any(sel):
            w, e = p["weight"][sel], p["energy"][sel]
            mean = float(np.sum(w * e) / w.sum()) if w.sum() > 0 else 0.0
            lines.append(f"   {w.sum():.6g} {w.min():.4g} {w.max():.4g} {mean:.4g} {e.min():.4g} "
                         f"{e.max():.4g} {name}")
    lines += ["", "$STATISTICAL_INFORMATION_GEOMETRY:"]
    for k in ("x", "y", "z"):
        if hdr.stored[k] and n:
            lines.append(f"   {float(p[k].min()):.6g} {float(p[k].max()):.6g}")
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ source
class PhaseSpaceSource:
    """A source that replays the particles of an IAEA phase space.

    Parameters
    ----------
    phsp : PhaseSpace, str or Path
        A phase space, or the base name / header / data path of an IAEA phase space to read.
    translate : (dx, dy, dz), cm
        Shift added to every particle position (the phase-space frame is otherwise the phantom's).
    recycle : int
        Each particle is started ``recycle`` times (>= 1). A pass through the file then stands for
        ``recycle * original_histories`` primary histories.

    In :func:`iortmc.simulate` one history starts one record (``recycle`` times in a row), so the
    dose of a result is per *record start*; divide it by :attr:`primaries_per_history` (stored in
    the result's metadata) for dose per primary accelerator history. Record weights are honoured by
    splitting and Russian roulette to unit weight (``int(w)`` copies, one more with probability
    ``w - int(w)``): unbiased, with a small variance cost for fractional weights.
    skip_unsupported : bool
        Neutrons and protons cannot be transported by iortmc: False (default) raises an InputError
        if the file holds any, True drops them (their number is reported by :meth:`describe`).

    Notes
    -----
    No rotation is applied: rotate the phase space beforehand if the beam axis of the file is not
    the wanted one. Recycling reuses identical particles, so the statistical uncertainty of a
    recycled run underestimates the latent variance of the phase space (Sempau et al., Phys. Med.
    Biol. 46 (2001) 1163, DOI 10.1088/0031-9155/46/4/318): state the number of original records.
    """

    particle = "mixed"
    kind = 3
    position = (0.0, 0.0, 0.0)
    direction = (0.0, 0.0, 1.0)

    def __init__(self, phsp, translate=(0.0, 0.0, 0.0), recycle: int = 1, skip_unsupported: bool = False):
        if not isinstance(phsp, PhaseSpace):
            phsp = read_iaea_phsp(phsp)
        try:
            t = np.asarray(translate, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"translate must be 3 numbers (dx, dy, dz) in cm, got {translate!r}") from None
        if t.shape != (3,) or not np.all(np.isfinite(t)):
            raise InputError(f"translate must be 3 finite numbers (dx, dy, dz) in cm, got {translate!r}")
        if isinstance(recycle, bool) or int(recycle) != recycle or recycle < 1:
            raise InputError(f"recycle must be an integer >= 1, got {recycle!r}")
        p = phsp.particles
        unsupported = p["type"] > 3
        self.n_dropped = int(np.count_nonzero(unsupported))
        if self.n_dropped and not skip_unsupported:
            raise InputError(f"the phase space holds {self.n_dropped} neutron/proton records, which "
                             "iortmc cannot transport; pass skip_unsupported=True to drop them")
        keep = ~unsupported
        from .spectrum import E_MAX
        if np.any(p["energy"][keep] > E_MAX) or np.any(p["energy"][keep] <= 0):
            raise InputError(f"phase-space energies must lie in (0, {E_MAX:g}] MeV, got "
                             f"{float(p['energy'][keep].min())} to {float(p['energy'][keep].max())} MeV")
        if len(phsp) == 0 or not np.any(keep):
            raise InputError("the phase space holds no particle that iortmc can transport")
        wk = p["weight"][keep]
        if not np.all(np.isfinite(wk)) or np.any(wk < 0) or not np.any(wk > 0):
            raise InputError("phase-space weights must be finite and >= 0 with at least one > 0, got "
                             f"{float(np.nanmin(wk))} to {float(np.nanmax(wk))}")
        if phsp.original_histories < 1:
            raise InputError(f"the phase space's original_histories must be >= 1, got {phsp.original_histories}")
        self.phsp = phsp
        self.translate = t
        self.recycle = int(recycle)
        self._keep = keep

    @property
    def records(self) -> int:
        """Records the source starts from (neutrons and protons dropped)."""
        return int(np.count_nonzero(self._keep))

    @property
    def max_energy(self) -> float:
        """Largest kinetic energy (MeV) of the kept records."""
        return float(self.phsp.particles["energy"][self._keep].max())

    @property
    def has_charged(self) -> bool:
        """True if the kept records include electrons or positrons."""
        return bool(np.any(self.phsp.particles["type"][self._keep] > 1))

    @property
    def primaries_per_history(self) -> float:
        """Primary (accelerator) histories that one simulated history stands for.

        In :func:`iortmc.simulate` one history starts one phase-space record (``recycle`` times in
        a row before moving to the next; records are reused from the start once all are used). A
        pass (``records * recycle`` simulated histories) stands for ``recycle * original_histories``
        primaries, so dose per primary history = dose per simulated history /
        ``primaries_per_history`` = dose per simulated history * records / original_histories.
        """
        return self.phsp.original_histories / self.records

    @property
    def histories_per_pass(self) -> int:
        """Primary histories one pass through the file represents (original histories x recycle)."""
        return self.phsp.original_histories * self.recycle

    def arrays(self):
        """Flat arrays for the kernels: (type int8 [1 photon, 2 electron, 3 positron], energy MeV,
        position (n, 3) cm after translation, unit direction (n, 3), weight, new_history bool).
        Directions are renormalised in float64."""
        p = self.phsp.particles[self._keep]
        pos = np.stack([p["x"], p["y"], p["z"]], axis=1) + self.translate
        d = np.stack([p["u"], p["v"], p["w"]], axis=1)
        d /= np.linalg.norm(d, axis=1)[:, None]
        return (np.ascontiguousarray(p["type"].astype(np.int8)), np.ascontiguousarray(p["energy"]),
                np.ascontiguousarray(pos), np.ascontiguousarray(d),
                np.ascontiguousarray(p["weight"]), np.ascontiguousarray(p["new_history"]))

    def describe(self) -> dict:
        d = self.phsp.describe()
        return {"type": "PhaseSpaceSource", "particle": self.particle,
                "file": d["file"], "records": d["records"], "records_dropped": self.n_dropped,
                "original_histories": self.phsp.original_histories,
                "new_histories": d["new_histories"], "recycle": self.recycle,
                "histories_per_pass": self.histories_per_pass,
                "simulated_histories_per_pass": self.records * self.recycle,
                "primaries_per_history": self.primaries_per_history,
                "translate_cm": self.translate.tolist(), "particles": d["particles"]}

    def __repr__(self) -> str:
        c = self.phsp.counts()
        parts = ", ".join(f"{v} {k}s" for k, v in c.items())
        return (f"PhaseSpaceSource({len(self.phsp)} records: {parts}; {self.phsp.original_histories} "
                f"original histories, recycle={self.recycle}, translate={tuple(self.translate.tolist())} cm)")
