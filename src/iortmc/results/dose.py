"""Dose results: statistics, merging, normalisation and the versioned HDF5 file format.

A :class:`DoseResult` holds the per-voxel tallies of a run and everything needed to interpret them
(phantom, source description, transport options, energy balance, seed, timing). The tallies are the
history-by-history sums of Walters, Kawrakow and Rogers (Med. Phys. 29 (2002) 2745,
https://doi.org/10.1118/1.1517611): for each voxel, the sum over histories of the dose deposited by
each history (Gy) and the sum of its squares (Gy^2). Because the sums of independent runs add, runs of
the same problem made with different seeds merge exactly (:func:`merge`, ``r1 + r2``).

Files are written by :meth:`DoseResult.save` and read by :func:`load`; the format is documented field
by field, with units, in ``docs/hdf5-format.md``. Files open in plain h5py without iortmc.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import os
import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .._atomic import atomic_write
from ..errors import DataError, InputError

__all__ = ["DoseResult", "ScaledDose", "TreatmentTime", "load", "merge", "restamp", "FILE_TYPE", "FORMAT_VERSION"]

#: Value of the root attribute ``file_type`` of every iortmc result file.
FILE_TYPE = "iortmc-result"
#: Version of the file format written here. Readers accept any 1.x file (minor versions only add fields).
FORMAT_VERSION = "1.2"
_MAJOR = int(FORMAT_VERSION.split(".")[0])

#: Options that may differ between runs that are merged: they change how a run was executed, not the
#: problem it solved.
RUN_ONLY_OPTIONS = frozenset({"seed", "threads", "num_threads", "n_threads", "timing", "batches",
                              "progress", "verbose", "batch_offset", "first_batch", "chunk"})

#: Energy-balance entries that every simulation reports (MeV totals over the run).
ENERGY_BALANCE_KEYS = ("emitted", "deposited", "escaped", "below_cutoff")

_TIMING_KEYS = ("wall_s", "cpu_s", "compile_s")
_GZIP_LEVEL = 4


# ---------------------------------------------------------------------------------------- helpers
def _jsonable(value, where: str):
    """A canonical JSON-compatible copy of ``value`` (tuples -> lists, numpy -> Python)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray):
        return [_jsonable(v, where) for v in value.tolist()]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputError(f"{where}: keys must be strings, got {k!r}")
            out[k] = _jsonable(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict(), where)
    raise InputError(f"{where}: values must be numbers, strings, lists or dicts (JSON), got {value!r} "
                     f"of type {type(value).__name__}")


def _json_dump(value) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=True)


def _seeds_tuple(seed) -> tuple[int, ...]:
    if seed is None:
        return ()
    if isinstance(seed, numbers.Integral):
        seeds = (seed,)
    else:
        try:
            seeds = tuple(seed)
        except TypeError:
            raise InputError(f"seed must be a non-negative integer, a sequence of them or None, "
                             f"got {seed!r}") from None
    out = []
    for s in seeds:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool) or not 0 <= int(s) < 2**64:
            raise InputError(f"seed must be an integer in [0, 2**64), got {s!r}")
        out.append(int(s))
    return tuple(out)


def _same_materials(a, b) -> bool:
    """Materials equal in name, composition, density and I (Material.__eq__, to 12 digits)."""
    return len(a) == len(b) and all(m1 == m2 for m1, m2 in zip(a, b))


def _version() -> str:
    try:
        from .. import __version__
        return str(__version__)
    except Exception:  # pragma: no cover - only while the package is half-installed
        try:
            from importlib.metadata import version
            return version("iortmc")
        except Exception:
            return "unknown"


# ---------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ScaledDose:
    """A dose distribution normalised to a prescription.

    Attributes
    ----------
    factor : float
        Number of source particles (histories) that deliver the prescribed dose at the reference
        location: ``prescribed_Gy / reference_dose_per_history``.
    dose : ndarray, [z, y, x]
        Dose in Gy for ``factor`` source particles (``result.dose * factor``).
    uncertainty : ndarray, [z, y, x]
        Relative statistical uncertainty of ``dose`` per voxel (unchanged by scaling).
    reference_dose_per_history : float
        Dose at the reference location in Gy per history (interpolated).
    reference_rel_unc : float
        Relative uncertainty of ``reference_dose_per_history``; every voxel of ``dose`` also carries
        it as a (fully correlated) normalisation uncertainty.
    prescribed_Gy : float
        The prescription (Gy) at the reference location.
    reference : str
        Where the prescription applies, in words.
    """

    factor: float
    dose: np.ndarray
    uncertainty: np.ndarray
    reference_dose_per_history: float
    reference_rel_unc: float
    prescribed_Gy: float
    reference: str


@dataclass(frozen=True)
class TreatmentTime:
    """Irradiation time for a prescription.

    Attributes
    ----------
    time_s : float
        Beam-on time in s.
    rel_unc : float
        Relative statistical uncertainty of ``time_s`` (that of the reference dose; the uncertainty of
        the source output is not included).
    histories : float
        Number of source particles needed.
    reference : str
        Where the prescription applies, in words.
    """

    time_s: float
    rel_unc: float
    histories: float
    reference: str

    @property
    def time_min(self) -> float:
        """Beam-on time in minutes."""
        return self.time_s / 60.0


class DoseResult:
    """Dose tallies of a run, with their statistics and the inputs that produced them.

    Parameters
    ----------
    dose_sum : array of float, shape (nz, ny, nx)
        Per voxel, the sum over histories of the dose deposited by each history (Gy), ``[z, y, x]``.
    dose_sum2 : array of float, shape (nz, ny, nx)
        Per voxel, the sum over histories of the square of each history's dose (Gy^2).
    histories : int
        Number of source particles (histories) N, >= 1.
    phantom : Phantom
        The phantom the dose was scored in (grid, material index, density, materials).
    source : dict, optional
        Description of the source (JSON-compatible; an object with ``to_dict()`` is converted).
    options : dict, optional
        Transport options of the run (JSON-compatible).
    energy_balance : dict, optional
        Energy totals over the run in MeV: at least ``emitted``, ``deposited``, ``escaped``,
        ``below_cutoff`` when given by the engine; other keys are kept.
    seed : int or sequence of int, optional
        The seed of the run (a tuple of seeds for a merged result).
    batches : int, optional
        Number of batches the histories were run in (summed on merging).
    timing : dict, optional
        ``wall_s`` (elapsed), ``cpu_s`` (CPU time over all threads), ``compile_s`` (JIT compilation),
        in s. Missing entries are NaN.
    metadata : dict, optional
        Free-form JSON-compatible information (user labels, host, ...).
    calibration : dict, optional
        A machine calibration (``iortmc.clinical.calibration.Calibration.to_dict()``): at least
        ``unit`` ("MU" or "min") and ``histories_per_unit``; see :meth:`set_calibration`.

    Notes
    -----
    History-by-history statistics (Walters, Kawrakow and Rogers 2002,
    https://doi.org/10.1118/1.1517611): with :math:`N` histories, per-voxel sum :math:`S_1` and sum
    of squares :math:`S_2`, the mean dose per history is :math:`\\bar D = S_1 / N` and the estimated
    variance of the mean is :math:`s^2 = (S_2/N - \\bar D^2)/(N - 1)`. :attr:`uncertainty` is
    :math:`s / \\bar D`, a fraction. It is set to 1.0 (100 %) where the dose is zero (no history
    deposited anything: the estimate carries no information) and everywhere when N = 1.
    """

    def __init__(self, dose_sum, dose_sum2, histories, phantom, *, source=None, options=None,
                 energy_balance=None, seed=None, batches=None, timing=None, metadata=None,
                 calibration=None) -> None:
        for attr in ("shape", "materials", "index", "density", "voxel_size", "origin"):
            if not hasattr(phantom, attr):
                raise InputError(f"phantom must be a Phantom, got {type(phantom).__name__} "
                                 f"(it has no {attr!r})")
        shape = tuple(phantom.shape)
        s1 = np.ascontiguousarray(dose_sum, dtype=np.float64)
        s2 = np.ascontiguousarray(dose_sum2, dtype=np.float64)
        for name, arr in (("dose_sum", s1), ("dose_sum2", s2)):
            if arr.shape != shape:
                raise InputError(f"{name} must have the phantom shape {shape} [z, y, x], got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise InputError(f"{name} must be finite everywhere")
        if np.any(s2 < 0):
            raise InputError(f"dose_sum2 must be >= 0 Gy^2 everywhere, found {float(s2.min())}")
        if isinstance(histories, bool) or not isinstance(histories, numbers.Integral) or histories < 1:
            raise InputError(f"histories must be an integer >= 1, got {histories!r}")
        if batches is not None and (isinstance(batches, bool) or not isinstance(batches, numbers.Integral)
                                    or batches < 1):
            raise InputError(f"batches must be an integer >= 1 or None, got {batches!r}")
        self._sum = s1
        self._sum2 = s2
        self._histories = int(histories)
        self._phantom = phantom
        self._source = _jsonable(source, "source") if source is not None else None
        if self._source is not None and not isinstance(self._source, dict):
            raise InputError(f"source must be a dict (or an object with to_dict()), got {source!r}")
        self._options = _jsonable(dict(options), "options") if options is not None else {}
        self._energy_balance = None
        if energy_balance is not None:
            eb = {}
            for k, v in dict(energy_balance).items():
                if not isinstance(k, str) or not isinstance(v, numbers.Real) or isinstance(v, bool):
                    raise InputError(f"energy_balance must map names to MeV totals (numbers), "
                                     f"got {k!r}: {v!r}")
                eb[k] = float(v)
            self._energy_balance = eb
        self._seed = _seeds_tuple(seed)
        self._batches = None if batches is None else int(batches)
        tm = {k: math.nan for k in _TIMING_KEYS}
        if timing is not None:
            for k, v in dict(timing).items():
                if k not in _TIMING_KEYS:
                    raise InputError(f"timing keys must be among {_TIMING_KEYS}, got {k!r}")
                tm[k] = float(v)
        self._timing = tm
        self._metadata = _jsonable(dict(metadata), "metadata") if metadata is not None else {}
        self._calibration = None
        if calibration is not None:
            self.set_calibration(calibration)
        self._dose = None
        self._unc = None

    # ------------------------------------------------------------------ statistics
    @property
    def dose_sum(self) -> np.ndarray:
        """Per-voxel sum over histories of each history's dose (Gy), [z, y, x]."""
        return self._sum

    @property
    def dose_sum2(self) -> np.ndarray:
        """Per-voxel sum over histories of the squared dose of each history (Gy^2), [z, y, x]."""
        return self._sum2

    @property
    def dose(self) -> np.ndarray:
        """Mean dose per history (Gy per source particle), [z, y, x]."""
        if self._dose is None:
            self._dose = self._sum / self._histories
        return self._dose

    @property
    def uncertainty(self) -> np.ndarray:
        """Relative standard deviation of the mean dose (a fraction), [z, y, x]; 1.0 where dose == 0."""
        if self._unc is None:
            n = self._histories
            mean = self.dose
            unc = np.ones_like(mean)
            if n > 1:
                var = (self._sum2 / n - mean * mean) / (n - 1)
                np.maximum(var, 0.0, out=var)   # rounding can make a tiny negative
                nz = mean != 0
                unc[nz] = np.sqrt(var[nz]) / np.abs(mean[nz])
            self._unc = unc
        return self._unc

    # ------------------------------------------------------------------ inputs and metadata
    @property
    def histories(self) -> int:
        """Number of source particles (histories)."""
        return self._histories

    @property
    def phantom(self):
        """The :class:`~iortmc.Phantom` the dose was scored in."""
        return self._phantom

    @property
    def source(self) -> dict | None:
        """Source description (JSON-compatible dict) or None."""
        return self._source

    @property
    def options(self) -> dict:
        """Transport options (JSON-compatible dict)."""
        return self._options

    @property
    def energy_balance(self) -> dict | None:
        """Energy totals over the run in MeV (``emitted``, ``deposited``, ``escaped``, ...), or None."""
        return self._energy_balance

    @property
    def seed(self):
        """The seed (int) of a single run, the tuple of seeds of a merged result, or None."""
        if not self._seed:
            return None
        return self._seed[0] if len(self._seed) == 1 else self._seed

    @property
    def seeds(self) -> tuple[int, ...]:
        """All seeds that contributed (empty if not recorded)."""
        return self._seed

    @property
    def batches(self) -> int | None:
        """Number of batches (summed over merged runs), or None."""
        return self._batches

    @property
    def timing(self) -> dict:
        """``wall_s``, ``cpu_s``, ``compile_s`` in s (NaN if unknown; sums over merged runs)."""
        return dict(self._timing)

    @property
    def metadata(self) -> dict:
        """Free-form metadata (JSON-compatible dict)."""
        return self._metadata

    # ------------------------------------------------------------------ absolute dose
    @property
    def calibration(self) -> dict | None:
        """The machine calibration attached to the result (a dict), or None."""
        return None if self._calibration is None else dict(self._calibration)

    def set_calibration(self, calibration) -> None:
        """Attach a machine calibration (a dict or an object with ``to_dict()``; None removes it).

        Required entries: ``unit`` ("MU" for monitor units or "min" for minutes) and
        ``histories_per_unit`` (source particles per MU or per minute, finite and > 0)."""
        if calibration is None:
            self._calibration = None
            return
        c = _jsonable(calibration, "calibration")
        if not isinstance(c, dict):
            raise InputError(f"calibration must be a dict, got {calibration!r}")
        if c.get("unit") not in ("MU", "min"):
            raise InputError(f"calibration unit must be 'MU' or 'min', got {c.get('unit')!r}")
        h = c.get("histories_per_unit")
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not (math.isfinite(h) and h > 0):
            raise InputError(f"calibration histories_per_unit must be a finite number > 0, got {h!r}")
        self._calibration = c

    @property
    def absolute_dose_unit(self) -> str | None:
        """``"Gy/MU"`` or ``"Gy/min"`` with a calibration, else None."""
        return None if self._calibration is None else f"Gy/{self._calibration['unit']}"

    @property
    def absolute_dose(self) -> np.ndarray:
        """Dose in Gy per MU (IOERT) or Gy per minute (low-kV), [z, y, x]: ``dose x histories_per_unit``.

        Raises InputError without a calibration (:meth:`set_calibration`)."""
        if self._calibration is None:
            raise InputError("this result has no calibration: attach one with "
                             "iortmc.clinical.calibration (MonitorUnitCalibration or DoseRateCalibration)"
                             ".calibrate(reference_result).apply(result)")
        return self.dose * float(self._calibration["histories_per_unit"])

    def __repr__(self) -> str:
        return (f"DoseResult(histories={self._histories}, shape={tuple(self._phantom.shape)} [z,y,x], "
                f"max dose={float(self.dose.max()):.4g} Gy/history, seed={self.seed!r})")

    # ------------------------------------------------------------------ merging
    def _repr_html_(self) -> str:
        from .._html import dose_result

        return dose_result(self)

    def __add__(self, other):
        if not isinstance(other, DoseResult):
            return NotImplemented
        return merge([self, other])

    def __radd__(self, other):
        # lets sum([r1, r2, ...]) work (it starts from 0)
        if isinstance(other, numbers.Number) and other == 0:
            return self
        return NotImplemented

    # ------------------------------------------------------------------ normalisation
    def _reference(self, point_xyz_cm, depth_cm, axis, through) -> tuple[float, float, str]:
        from . import sampling

        if (point_xyz_cm is None) == (depth_cm is None):
            raise InputError("give exactly one of point_xyz_cm (x, y, z in cm) or depth_cm (cm on the "
                             f"beam axis), got point_xyz_cm={point_xyz_cm!r}, depth_cm={depth_cm!r}")
        if point_xyz_cm is not None:
            d, u = sampling.point_dose(self, point_xyz_cm)
            where = f"point {tuple(float(v) for v in point_xyz_cm)} cm"
        else:
            depth = float(depth_cm)
            z, dd, uu = sampling.depth_dose(self, axis=axis, through=through)
            if not (z[0] <= depth <= z[-1]):
                raise InputError(f"depth_cm must lie between the first and last voxel centres "
                                 f"({z[0]:.4g} to {z[-1]:.4g} cm) along {axis}, got {depth_cm!r}")
            d = float(np.interp(depth, z, dd))
            ua = np.interp(depth, z, uu * dd)
            u = float(ua / d) if d > 0 else 1.0
            where = f"depth {depth:g} cm along {axis}" + (f" through {tuple(through)}" if through else "")
        if not d > 0:
            raise InputError(f"the dose at the reference {where} is {d} Gy per history: cannot normalise to it")
        return d, u, where

    def scaled_to(self, dose_Gy: float, *, point_xyz_cm=None, depth_cm=None, axis: str = "z",
                  through=None) -> ScaledDose:
        """Scale the dose so that the reference location receives ``dose_Gy``.

        Parameters
        ----------
        dose_Gy : float
            Prescribed dose (Gy) at the reference location, > 0.
        point_xyz_cm : (x, y, z), optional
            Reference point in cm; the dose there is interpolated trilinearly between voxel centres
            (:func:`iortmc.analysis.point_dose`).
        depth_cm : float, optional
            Reference depth in cm on the beam axis, measured from the phantom entry surface
            (:func:`iortmc.analysis.depth_dose`, linear interpolation between voxel centres).
        axis, through :
            Beam axis and the line it passes through, as in :func:`iortmc.analysis.depth_dose`.

        Returns
        -------
        ScaledDose
            ``factor`` is the number of source particles that deliver ``dose_Gy`` at the reference;
            ``dose`` is the scaled dose (Gy). Give exactly one of ``point_xyz_cm`` and ``depth_cm``.
        """
        dose_Gy = float(dose_Gy)
        if not (math.isfinite(dose_Gy) and dose_Gy > 0):
            raise InputError(f"dose_Gy must be finite and > 0 Gy, got {dose_Gy!r}")
        d, u, where = self._reference(point_xyz_cm, depth_cm, axis, through)
        factor = dose_Gy / d
        return ScaledDose(factor=factor, dose=self.dose * factor, uncertainty=self.uncertainty.copy(),
                          reference_dose_per_history=d, reference_rel_unc=u, prescribed_Gy=dose_Gy,
                          reference=where)

    def dose_rate(self, histories_per_second: float) -> np.ndarray:
        """Dose rate in Gy/s for a source emitting ``histories_per_second`` source particles per s.

        The relative uncertainty per voxel is :attr:`uncertainty` (the source output is taken as exact).
        Multiply by 60 for Gy/min.
        """
        rate = float(histories_per_second)
        if not (math.isfinite(rate) and rate > 0):
            raise InputError(f"histories_per_second must be finite and > 0 (source particles per s), "
                             f"got {histories_per_second!r}")
        return self.dose * rate

    def treatment_time(self, prescribed_Gy: float, *, histories_per_second: float, point_xyz_cm=None,
                       depth_cm=None, axis: str = "z", through=None) -> TreatmentTime:
        """Beam-on time to deliver ``prescribed_Gy`` at a point or depth.

        Parameters
        ----------
        prescribed_Gy : float
            Prescribed dose in Gy (> 0).
        histories_per_second : float
            Source output in source particles (histories) per second (> 0).
        point_xyz_cm, depth_cm, axis, through :
            The reference location, as in :meth:`scaled_to` (give exactly one of the first two).

        Returns
        -------
        TreatmentTime
            ``time_s = prescribed_Gy / (dose_per_history * histories_per_second)``.
        """
        rate = float(histories_per_second)
        if not (math.isfinite(rate) and rate > 0):
            raise InputError(f"histories_per_second must be finite and > 0, got {histories_per_second!r}")
        scaled = self.scaled_to(prescribed_Gy, point_xyz_cm=point_xyz_cm, depth_cm=depth_cm, axis=axis,
                                through=through)
        return TreatmentTime(time_s=scaled.factor / rate, rel_unc=scaled.reference_rel_unc,
                             histories=scaled.factor, reference=scaled.reference)

    # ------------------------------------------------------------------ files
    def save(self, path) -> None:
        """Write the result to an HDF5 file (format in ``docs/hdf5-format.md``), atomically.

        The file is written under a temporary name in the same directory, flushed to disk (fsync) and
        then renamed over ``path`` with :func:`os.replace`; a crash or error mid-write leaves any
        existing file at ``path`` untouched and removes the temporary file.
        """
        _atomic_write(path, self._write)

    def _write(self, f) -> None:
        ph = self._phantom
        a = f.attrs
        a["file_type"] = FILE_TYPE
        a["format_version"] = FORMAT_VERSION
        a["iortmc_version"] = _version()
        a["created_utc"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        a["statistics"] = "history-by-history"
        a["seed"] = np.asarray(self._seed, dtype=np.uint64)
        a["histories"] = np.int64(self._histories)
        a["batches"] = np.int64(self._batches if self._batches is not None else 0)
        for k in _TIMING_KEYS:
            a[k] = np.float64(self._timing[k])
        a["metadata"] = _json_dump(self._metadata)

        def dset(group, name, data, units, description):
            data = np.asarray(data)
            kw = {}
            if data.ndim == 3:
                kw = dict(chunks=True, compression="gzip", compression_opts=_GZIP_LEVEL, shuffle=True)
            ds = group.create_dataset(name, data=data, **kw)
            ds.attrs["units"] = units
            ds.attrs["description"] = description
            return ds

        g = f.create_group("dose")
        g.attrs["axes"] = "z,y,x"
        dset(g, "sum", self._sum, "Gy", "sum over histories of each history's dose")
        dset(g, "sum2", self._sum2, "Gy^2", "sum over histories of each history's squared dose")
        dset(g, "dose", self.dose, "Gy/history", "mean dose per source particle, sum / histories")
        dset(g, "uncertainty", self.uncertainty, "1",
             "relative standard deviation of the mean dose; 1 where dose is 0")

        g = f.create_group("phantom")
        g.attrs["axes"] = "z,y,x"
        g.attrs["voxel_size"] = np.asarray(ph.voxel_size, dtype=np.float64)
        g.attrs["origin"] = np.asarray(ph.origin, dtype=np.float64)
        g.attrs["shape"] = np.asarray(ph.shape, dtype=np.int64)
        dset(g, "index", np.asarray(ph.index, dtype=np.int32), "1", "material index per voxel")
        dset(g, "density", np.asarray(ph.density, dtype=np.float64), "g/cm3", "mass density per voxel")
        mg = g.create_group("materials")
        mg.attrs["count"] = np.int64(len(ph.materials))
        for i, m in enumerate(ph.materials):
            d = _jsonable(m.to_dict(), "material")
            sg = mg.create_group(str(i))
            sg.attrs["name"] = m.name
            sg.attrs["density"] = np.float64(m.density)
            sg.attrs["I_eV"] = np.float64(m.I_eV)
            comp = dict(m.composition)
            sg.attrs["elements"] = np.array(list(comp), dtype=h5py_str())
            sg.attrs["mass_fractions"] = np.array(list(comp.values()), dtype=np.float64)
            sg.attrs["json"] = _json_dump(d)

        g = f.create_group("source")
        g.attrs["json"] = _json_dump(self._source)
        g = f.create_group("options")
        g.attrs["json"] = _json_dump(self._options)
        g = f.create_group("energy_balance")
        g.attrs["units"] = "MeV"
        g.attrs["present"] = self._energy_balance is not None
        for k, v in (self._energy_balance or {}).items():
            g.attrs[k] = np.float64(v)
        if self._calibration is not None:
            g = f.create_group("calibration")
            g.attrs["unit"] = self._calibration["unit"]
            g.attrs["histories_per_unit"] = np.float64(self._calibration["histories_per_unit"])
            g.attrs["json"] = _json_dump(self._calibration)


#: Size of the HDF5 user block that holds the file checksum (bytes before the HDF5 data).
USERBLOCK_BYTES = 512
_CHECKSUM_TAG = b"iortmc-sha256 "
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _sha256_from(path, offset: int) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(offset)
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path, write) -> None:
    """Create ``path`` as an HDF5 file filled by ``write(h5py.File)``, atomically
    (:func:`iortmc._atomic.atomic_write`). Used by :meth:`DoseResult.save` and by the checkpoints of
    :mod:`iortmc.transport.checkpoint`.

    The file starts with a 512-byte HDF5 user block holding ``iortmc-sha256 <hex>``: the SHA-256 of
    the rest of the file, which :func:`load` checks before the HDF5 library reads anything (a damaged
    file is then a DataError, never undefined behaviour in the HDF5 library)."""
    import h5py

    def create(tmp):
        with h5py.File(tmp, "x", userblock_size=USERBLOCK_BYTES) as f:
            write(f)
        head = _CHECKSUM_TAG + _sha256_from(tmp, USERBLOCK_BYTES).encode("ascii") + b"\n"
        with open(tmp, "r+b") as fh:
            fh.write(head.ljust(USERBLOCK_BYTES, b"\0"))

    atomic_write(path, create)


def _verify_checksum(path: str) -> None:
    """DataError if ``path`` has an iortmc user block whose checksum does not match the file."""
    with open(path, "rb") as fh:
        head = fh.read(USERBLOCK_BYTES + len(_HDF5_SIGNATURE))
    if head[:len(_HDF5_SIGNATURE)] == _HDF5_SIGNATURE:
        return   # no user block: a file of format 1.0/1.1 or written by other software
    if head[USERBLOCK_BYTES:] != _HDF5_SIGNATURE and not head.startswith(_CHECKSUM_TAG):
        return   # not an iortmc file with a checksum; h5py.is_hdf5 decides what it is
    line = head[:USERBLOCK_BYTES].split(b"\n", 1)[0]
    want = line[len(_CHECKSUM_TAG):] if line.startswith(_CHECKSUM_TAG) else b""
    if len(want) != 64 or head[USERBLOCK_BYTES:] != _HDF5_SIGNATURE:
        raise DataError(f"{path!r} is damaged: its iortmc header (checksum block) is corrupted; the file may "
                        f"have been altered or cut short")
    got = _sha256_from(path, USERBLOCK_BYTES)
    if got.encode("ascii") != want:
        raise DataError(f"{path!r} is damaged: its SHA-256 checksum does not match the content (the file was "
                        f"altered or cut short after it was written, e.g. by an interrupted copy or a full disk; "
                        f"after an intended edit with another HDF5 tool, iortmc.results.dose.restamp(path) "
                        f"records the new checksum)")


def restamp(path) -> None:
    """Record the current checksum of a result file edited on purpose with another HDF5 tool.

    Only for files that carry the iortmc checksum block (format 1.2 and later); the edit itself is not
    checked, :func:`load` still checks every field."""
    path = os.fspath(path)
    with open(path, "rb") as fh:
        head = fh.read(USERBLOCK_BYTES + len(_HDF5_SIGNATURE))
    if head[USERBLOCK_BYTES:] != _HDF5_SIGNATURE:
        raise DataError(f"{path!r} has no iortmc checksum block (not an iortmc result of format 1.2 or later)")
    line = _CHECKSUM_TAG + _sha256_from(path, USERBLOCK_BYTES).encode("ascii") + b"\n"
    with open(path, "r+b") as fh:
        fh.write(line.ljust(USERBLOCK_BYTES, b"\0"))


def h5py_str():
    """The h5py variable-length UTF-8 string type (readable as ``str`` in plain h5py)."""
    import h5py

    return h5py.string_dtype("utf-8")


# ---------------------------------------------------------------------------------------- merging
def merge(results: Iterable[DoseResult]) -> DoseResult:
    """Combine independent runs of the same problem into one result, exactly.

    Sums, sums of squares, histories, batches, energy-balance totals and timing add; seeds are
    collected. The history-by-history statistics of the merged result are those of one run with all
    the histories.

    Parameters
    ----------
    results : iterable of DoseResult
        At least one result. All must share the phantom (grid, voxel size, origin, materials, material
        index and density arrays), the source description and the transport options, except the
        options in :data:`RUN_ONLY_OPTIONS` (seed, threads, batches, timing, progress, ...).

    Raises
    ------
    InputError
        If the results describe different problems (the message names what differs).

    Notes
    -----
    Runs that share a seed are merged with a warning: that is only correct when they ran different
    batches of one seed; two copies of the same run are not independent.
    """
    rs = list(results)
    if not rs:
        raise InputError("merge needs at least one DoseResult, got none")
    for i, r in enumerate(rs):
        if not isinstance(r, DoseResult):
            raise InputError(f"merge: item {i} is a {type(r).__name__}, expected DoseResult")
    first = rs[0]
    p0 = first.phantom
    opts0 = {k: v for k, v in first.options.items() if k not in RUN_ONLY_OPTIONS}
    eb_keys = None if first.energy_balance is None else set(first.energy_balance)
    for i, r in enumerate(rs[1:], start=1):
        p = r.phantom
        what = f"merge: result {i} differs from result 0"
        if tuple(p.shape) != tuple(p0.shape):
            raise InputError(f"{what}: grid shape {tuple(p.shape)} != {tuple(p0.shape)} [z, y, x]")
        if not np.allclose(p.voxel_size, p0.voxel_size, rtol=1e-12, atol=0):
            raise InputError(f"{what}: voxel_size {p.voxel_size} != {p0.voxel_size} cm")
        if not np.allclose(p.origin, p0.origin, rtol=0, atol=1e-12):
            raise InputError(f"{what}: origin {p.origin} != {p0.origin} cm")
        if not _same_materials(p.materials, p0.materials):
            raise InputError(f"{what}: materials {[m.name for m in p.materials]} differ from "
                             f"{[m.name for m in p0.materials]} (names, compositions, densities or I)")
        if not np.array_equal(p.index, p0.index):
            raise InputError(f"{what}: material index arrays differ in {int(np.sum(p.index != p0.index))} voxels")
        if not np.array_equal(p.density, p0.density):
            raise InputError(f"{what}: density arrays differ in {int(np.sum(p.density != p0.density))} voxels")
        if _json_dump(r.source) != _json_dump(first.source):
            raise InputError(f"{what}: source {r.source!r} != {first.source!r}")
        opts = {k: v for k, v in r.options.items() if k not in RUN_ONLY_OPTIONS}
        if _json_dump(opts) != _json_dump(opts0):
            keys = sorted(k for k in set(opts) | set(opts0) if opts.get(k, "<absent>") != opts0.get(k, "<absent>"))
            diffs = ", ".join(f"{k}: {opts.get(k, '<absent>')!r} vs {opts0.get(k, '<absent>')!r}" for k in keys)
            raise InputError(f"{what}: transport options differ ({diffs})")
        keys = None if r.energy_balance is None else set(r.energy_balance)
        if keys != eb_keys:
            raise InputError(f"{what}: energy_balance entries {sorted(keys) if keys else None} != "
                             f"{sorted(eb_keys) if eb_keys else None}")
    seeds = [s for r in rs for s in r.seeds]
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        warnings.warn(f"merge: seeds {dup} occur in more than one result; merging is only valid if "
                      f"those runs simulated different batches (otherwise they are copies, not "
                      f"independent runs)", RuntimeWarning, stacklevel=2)
    s1 = first.dose_sum.copy()
    s2 = first.dose_sum2.copy()
    for r in rs[1:]:
        s1 += r.dose_sum
        s2 += r.dose_sum2
    eb = None
    if eb_keys is not None:
        eb = {k: math.fsum(r.energy_balance[k] for r in rs) for k in first.energy_balance}
    batches = None if any(r.batches is None for r in rs) else sum(r.batches for r in rs)
    timing = {k: math.fsum(r.timing[k] for r in rs) for k in _TIMING_KEYS}
    meta = dict(first.metadata)
    meta["merged_runs"] = sum(int(r.metadata.get("merged_runs", 1)) for r in rs)
    cals = [_json_dump(r.calibration) for r in rs]
    cal = first.calibration if all(c == cals[0] for c in cals) else None
    return DoseResult(s1, s2, sum(r.histories for r in rs), p0, source=first.source,
                      options=dict(first.options), energy_balance=eb, seed=tuple(seeds) or None,
                      batches=batches, timing=timing, metadata=meta, calibration=cal)


# ---------------------------------------------------------------------------------------- loading
def load(path) -> DoseResult:
    """Read a result written by :meth:`DoseResult.save`.

    Raises
    ------
    DataError
        If the file is missing, is not an HDF5 file, is an HDF5 file from another program (no or a
        wrong ``file_type``), is truncated or corrupted, lacks a required field, or has a newer major
        ``format_version`` than this iortmc reads.
    """
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"result file {path!r} does not exist")
    if os.path.isdir(path):
        raise DataError(f"result file {path!r} is a directory, not an HDF5 file")
    try:
        _verify_checksum(path)
    except OSError as exc:
        raise DataError(f"cannot read result file {path!r}: {exc}") from exc
    try:
        is_h5 = h5py.is_hdf5(path)
    except OSError as exc:
        raise DataError(f"cannot read result file {path!r}: {exc}") from exc
    if not is_h5:
        raise DataError(f"{path!r} is not an HDF5 file (no HDF5 signature); iortmc results are HDF5 files "
                        f"written by DoseResult.save")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path!r} is a damaged or truncated HDF5 file and cannot be opened ({exc}); "
                        f"it may have been cut short by an interrupted copy or a full disk") from exc
    try:
        with f:
            return _read(f, path)
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, OverflowError) as exc:
        raise DataError(f"{path!r}: cannot read the iortmc result ({type(exc).__name__}: {exc}); the file "
                        f"is truncated, damaged or incomplete") from exc


def _material(cls, d: dict):
    """Rebuild a material; keep the stored mass fractions bit for bit (the constructor renormalises)."""
    m = cls.from_dict(d)
    comp = d.get("composition")
    if isinstance(comp, dict) and set(comp) == set(m.composition) and all(
            abs(float(comp[k]) - m.composition[k]) <= 1e-12 for k in comp):
        m.composition = {k: float(comp[k]) for k in m.composition}
    return m


def _read(f, path: str) -> DoseResult:
    a = f.attrs
    file_type = a.get("file_type")
    if isinstance(file_type, bytes):
        file_type = file_type.decode("utf-8", "replace")
    if file_type is None:
        raise DataError(f"{path!r} is an HDF5 file but not an iortmc result: it has no 'file_type' "
                        f"attribute (expected {FILE_TYPE!r}); it was probably written by another program")
    if file_type != FILE_TYPE:
        raise DataError(f"{path!r} is an HDF5 file of type {file_type!r}, not an iortmc result "
                        f"(expected file_type {FILE_TYPE!r})")
    version = str(a.get("format_version", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise DataError(f"{path!r}: format_version {version!r} is not of the form MAJOR.MINOR") from None
    if major > _MAJOR:
        raise DataError(f"{path!r} uses result format {version}, newer than this iortmc "
                        f"({_version()}) reads (format {FORMAT_VERSION}, major {_MAJOR}); upgrade iortmc")
    if major < _MAJOR:
        raise DataError(f"{path!r} uses result format {version}, older than any this iortmc reads "
                        f"(major {_MAJOR})")

    def need(group, name):
        if name not in group:
            raise DataError(f"{path!r}: required field {group.name.rstrip('/')}/{name} is missing "
                            f"(incomplete iortmc result)")
        return group[name]

    from ..geometry import Phantom
    from ..physics.materials import Material

    dose = need(f, "dose")
    s1 = need(dose, "sum")[()]
    s2 = need(dose, "sum2")[()]
    pg = need(f, "phantom")
    index = need(pg, "index")[()]
    density = need(pg, "density")[()]
    mg = need(pg, "materials")
    n_mat = int(mg.attrs["count"])
    mats = [_material(Material, json.loads(need(mg, str(i)).attrs["json"])) for i in range(n_mat)]
    phantom = Phantom(mats, index, density=density, voxel_size=tuple(pg.attrs["voxel_size"]),
                      origin=tuple(pg.attrs["origin"]))
    source = json.loads(need(f, "source").attrs["json"])
    options = json.loads(need(f, "options").attrs["json"])
    eg = need(f, "energy_balance")
    eb = None
    if bool(eg.attrs.get("present", True)):
        eb = {k: float(v) for k, v in eg.attrs.items() if k not in ("units", "present")}
    seed = tuple(int(s) for s in np.atleast_1d(a["seed"]))
    batches = int(a["batches"]) or None
    timing = {k: float(a[k]) for k in _TIMING_KEYS if k in a}
    metadata = json.loads(a["metadata"]) if "metadata" in a else {}
    calibration = None
    if "calibration" in f:
        calibration = json.loads(need(f, "calibration").attrs["json"])
    try:
        return DoseResult(s1, s2, int(a["histories"]), phantom, source=source, options=options,
                          energy_balance=eb, seed=seed or None, batches=batches, timing=timing,
                          metadata=metadata, calibration=calibration)
    except InputError as exc:
        raise DataError(f"{path!r}: the stored result is inconsistent: {exc}") from None
