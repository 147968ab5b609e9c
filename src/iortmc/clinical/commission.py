"""Commissioning a source model from measured dose.

Two source models are fitted to a clinic's own measurement (docs/commissioning.md):

* **IOERT electron beam** (:func:`commission_electron`): mean kinetic energy, Gaussian energy spread
  (FWHM), Gaussian angular spread and optionally a virtual source distance, fitted to a central-axis
  depth dose in water; or (``method="spectrum"``) a regularised non-negative energy spectrum.
* **50 kV X-ray source** (:func:`commission_xray`): a tungsten-anode spectrum
  (:mod:`iortmc.clinical.xray_model`) through physical parameters (filtration thicknesses of named
  materials, optionally the L-line strength and kVp), or regularised non-negative spectral weights,
  fitted to a radial dose (or radial dose function) around the source in water.

**Method: a linear basis.** Dose is linear in the source's energy and angle distribution. So each
energy bin (and, for electrons, two angular spreads) is simulated once; the dose of any spectrum is
then the weighted sum of the basis doses, and a fit costs milliseconds per evaluation. The
parameters are found by weighted least squares (scipy ``least_squares``; ``nnls`` with a
second-difference penalty for free spectra); one final full simulation of the fitted source checks
the result independently of the basis (its residuals are those reported and stored).

*Angular spread* enters through the basis at two spreads, 0 and ``sigma_max``: for small angles the
dose depends on the angular distribution through its mean square angle (to first order), which is
linear in sigma^2, so ``D(sigma) = D(0) + (sigma / sigma_max)^2 [D(sigma_max) - D(0)]``.

*Electron geometry*: a parallel beam with a rectangular or circular field, normally incident on
water, central-axis detector of a given width and length. The basis is simulated as a pencil beam
into a laterally binned phantom and converted exactly to the central-axis dose of the field by
reciprocity: the detector's mean dose is ``(1/A) sum_voxels D_vox w(u_vox) dx dy``, with ``w(u)`` the
fraction of the detector area that overlaps the field shifted by ``u`` (translation invariance of a
parallel beam in a laterally uniform phantom). Every history contributes, instead of the few that
cross a small detector. A virtual source distance ``f`` enters as the inverse-square factor
``(f / (f + z))^2`` on the central axis (the usual effective-SSD description of a divergent beam,
ICRU Report 35 (1984) section 4).

*Uncertainties*: the parameter covariance is ``(J^T W J)^-1`` at the optimum, with the measurement
uncertainties as weights (scaled by chi^2/dof when none were given) plus the part from the basis'
own statistical noise, propagated through the same linearised fit; the basis part scales as
1/sqrt(histories), which gives the histories the basis needs for a stated uncertainty
(``basis_histories_for``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from ..errors import InputError
from ..sources.commissioned import SCHEMA, read_commissioned

__all__ = ["Measurement", "read_measurement", "WaterBeamGeometry", "WaterPointGeometry",
           "ElectronBasis", "XrayBasis", "electron_basis", "xray_basis", "commission_electron",
           "commission_xray", "CommissionResult", "plot_fit", "read_commissioned"]

_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


# ============================================================================ measurement
@dataclass
class Measurement:
    """Measured dose along a line: depth (electron PDD) or radius (X-ray radial dose), in cm.

    ``dose`` is in any unit (relative or absolute); ``sigma`` its 1-sigma uncertainty in the same
    unit, or None (unknown: uniform weights, parameter uncertainties scaled by the fit's chi^2/dof).
    ``normalised_at_cm``: the data are a ratio normalised at this position (e.g. g(r) at 1 cm); the
    model is then normalised the same way instead of getting a free scale factor.
    """

    x_cm: np.ndarray
    dose: np.ndarray
    sigma: np.ndarray | None = None
    kind: str = "depth"
    normalised_at_cm: float | None = None
    source: str = ""

    def __post_init__(self):
        if self.kind not in ("depth", "radial"):
            raise InputError(f"measurement kind must be 'depth' or 'radial', got {self.kind!r}")
        self.x_cm = _finite_array("measurement positions (cm)", self.x_cm)
        self.dose = _finite_array("measured dose", self.dose)
        if self.x_cm.shape != self.dose.shape:
            raise InputError(f"positions and doses differ in length ({self.x_cm.size} vs {self.dose.size})")
        d = np.diff(self.x_cm)
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0))
            raise InputError(f"measurement {'depths' if self.kind == 'depth' else 'radii'} must increase "
                             f"strictly; got {self.x_cm[i]:g} cm followed by {self.x_cm[i + 1]:g} cm")
        if np.any(self.x_cm < 0) or (self.kind == "radial" and np.any(self.x_cm <= 0)):
            bad = self.x_cm[self.x_cm <= 0][0]
            raise InputError(f"measurement position {bad:g} cm is outside the phantom "
                             f"({'depths start at the surface, 0 cm' if self.kind == 'depth' else 'radii must be > 0'})")
        if np.any(self.dose < 0):
            i = int(np.argmax(self.dose < 0))
            raise InputError(f"measured dose must be >= 0; got {self.dose[i]:g} at {self.x_cm[i]:g} cm")
        if not np.any(self.dose > 0):
            raise InputError("measured dose is zero everywhere")
        if self.sigma is not None:
            self.sigma = _finite_array("dose uncertainty", self.sigma)
            if self.sigma.shape != self.dose.shape:
                raise InputError(f"uncertainties and doses differ in length ({self.sigma.size} vs {self.dose.size})")
            if np.any(self.sigma <= 0):
                raise InputError(f"dose uncertainties must be > 0, got {self.sigma[self.sigma <= 0][0]:g}")
        if self.normalised_at_cm is not None:
            self.normalised_at_cm = float(self.normalised_at_cm)

    @property
    def n(self) -> int:
        return int(self.x_cm.size)

    def weights_sigma(self) -> tuple[np.ndarray, bool]:
        """(sigma used in the fit, whether it was given)."""
        if self.sigma is not None:
            return self.sigma, True
        return np.full(self.n, 0.01 * float(self.dose.max())), False


def _finite_array(name, values) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers, got {values!r}") from None
    if a.size == 0:
        raise InputError(f"{name}: no values")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains a non-finite value ({a[~np.isfinite(a)][0]})")
    return a


def read_measurement(path, kind: str | None = None, normalised_at_cm=None, relative_uncertainty=None) -> Measurement:
    """Read a measurement CSV: a header line, then rows ``position_cm, dose[, uncertainty]``.

    The first column is a depth (header starting ``depth``) or a radius (``r``/``radius``); ``kind``
    overrides the header. The optional third column is the absolute 1-sigma uncertainty of the dose,
    or the relative one if its header contains ``rel``. ``#`` lines are comments.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise InputError(f"cannot read measurement file {str(p)!r}: {exc.strerror or exc}") from None
    header = None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        parts = [x.strip() for x in body.replace(";", ",").split(",")] if "," in body or ";" in body else body.split()
        try:
            rows.append([float(x) for x in parts])
        except ValueError:
            if header is None and not rows:
                header = [x.lower() for x in parts]
                continue
            raise InputError(f"measurement file {str(p)!r} line {n}: not numbers: {line!r}") from None
    if not rows:
        raise InputError(f"measurement file {str(p)!r} holds no data rows")
    ncol = {len(r) for r in rows}
    if len(ncol) != 1 or next(iter(ncol)) not in (2, 3):
        raise InputError(f"measurement file {str(p)!r}: every row must have 2 (position_cm, dose) or 3 "
                         "(position_cm, dose, uncertainty) columns")
    a = np.array(rows)
    if kind is None:
        first = header[0] if header else "depth"
        kind = "radial" if first.startswith("r") else "depth"
    sigma = None
    if a.shape[1] == 3:
        rel = relative_uncertainty if relative_uncertainty is not None else bool(header and "rel" in header[2])
        sigma = a[:, 2] * (a[:, 1] if rel else 1.0)
    return Measurement(a[:, 0], a[:, 1], sigma, kind=kind, normalised_at_cm=normalised_at_cm, source=str(p))


# ============================================================================ geometries
@dataclass
class WaterBeamGeometry:
    """Electron measurement set-up: parallel beam normally incident on a water phantom (surface z = 0).

    Parameters
    ----------
    field_size_cm : (sx, sy), optional
        Rectangular field at the surface; or ``field_diameter_cm`` for a circular one (one of them).
    detector_width_cm : float
        Lateral size of the detector (side of a square, or diameter with ``detector_shape="disc"``);
        its sensitive area is averaged exactly (0 = a point on the axis).
    detector_length_cm : float
        Size of the detector along the beam: the model is averaged over it (0 = a point in depth).
    depth_cm : float, optional
        Phantom depth (default: the deepest measurement + 2 cm). A measurement deeper than the
        phantom is refused.
    bin_cm : float
        Depth bin of the basis (default 0.1 cm).
    lateral_voxel_cm : float
        Lateral voxel of the basis phantom (default 0.5 cm).
    material : str
        Phantom material (default water).
    """

    field_size_cm: tuple | None = None
    field_diameter_cm: float | None = None
    detector_width_cm: float = 0.0
    detector_length_cm: float = 0.0
    detector_shape: str = "square"
    depth_cm: float | None = None
    bin_cm: float = 0.1
    lateral_voxel_cm: float = 0.5
    material: str = "water"

    def __post_init__(self):
        if (self.field_size_cm is None) == (self.field_diameter_cm is None):
            raise InputError("give exactly one of field_size_cm (sx, sy) or field_diameter_cm")
        if self.field_size_cm is not None:
            fs = np.asarray(self.field_size_cm, dtype=float).ravel()
            if fs.size == 1:
                fs = np.repeat(fs, 2)
            if fs.shape != (2,) or not np.all(np.isfinite(fs)) or np.any(fs <= 0):
                raise InputError(f"field_size_cm must be two positive side lengths (cm), got {self.field_size_cm!r}")
            self.field_size_cm = (float(fs[0]), float(fs[1]))
        else:
            self.field_diameter_cm = _pos("field_diameter_cm", self.field_diameter_cm)
        self.detector_width_cm = _pos("detector_width_cm", self.detector_width_cm, zero=True)
        self.detector_length_cm = _pos("detector_length_cm", self.detector_length_cm, zero=True)
        if self.detector_shape not in ("square", "disc"):
            raise InputError(f"detector_shape must be 'square' or 'disc', got {self.detector_shape!r}")
        if self.detector_width_cm >= min(self.field_extent()):
            raise InputError(f"detector_width_cm = {self.detector_width_cm:g} cm must be smaller than the field "
                             f"({min(self.field_extent()):g} cm)")
        if self.depth_cm is not None:
            self.depth_cm = _pos("depth_cm", self.depth_cm)
        self.bin_cm = _pos("bin_cm", self.bin_cm)
        self.lateral_voxel_cm = _pos("lateral_voxel_cm", self.lateral_voxel_cm)

    def field_extent(self):
        if self.field_size_cm is not None:
            return self.field_size_cm
        return (self.field_diameter_cm, self.field_diameter_cm)

    @property
    def field_area_cm2(self) -> float:
        if self.field_size_cm is not None:
            return self.field_size_cm[0] * self.field_size_cm[1]
        return math.pi * 0.25 * self.field_diameter_cm ** 2

    def in_field(self, x, y):
        if self.field_size_cm is not None:
            return (np.abs(x) <= 0.5 * self.field_size_cm[0]) & (np.abs(y) <= 0.5 * self.field_size_cm[1])
        return x * x + y * y <= 0.25 * self.field_diameter_cm ** 2

    def detector_points(self, n=12):
        b = self.detector_width_cm
        if b == 0:
            return np.zeros((1, 2))
        g = (np.arange(n) + 0.5) / n - 0.5
        px, py = np.meshgrid(g * b, g * b)
        pts = np.column_stack([px.ravel(), py.ravel()])
        if self.detector_shape == "disc":
            pts = pts[np.hypot(pts[:, 0], pts[:, 1]) <= 0.5 * b]
        return pts

    def describe(self) -> dict:
        d = {"type": "water_beam", "material": self.material, "detector_width_cm": self.detector_width_cm,
             "detector_length_cm": self.detector_length_cm, "detector_shape": self.detector_shape,
             "bin_cm": self.bin_cm, "lateral_voxel_cm": self.lateral_voxel_cm}
        if self.field_size_cm is not None:
            d["field_size_cm"] = list(self.field_size_cm)
        else:
            d["field_diameter_cm"] = self.field_diameter_cm
        if self.depth_cm is not None:
            d["depth_cm"] = self.depth_cm
        return d


@dataclass
class WaterPointGeometry:
    """X-ray measurement set-up: an isotropic point source at the centre of a water cube.

    ``phantom_cm`` is the cube side (default 30 cm: full scatter to 10 cm); ``voxel_cm`` the voxel
    (the dose of a voxel is converted to the dose at its centre by dividing out the exact voxel mean
    of 1/r^2, so 2 mm voxels serve from 0.3 cm on); ``detector_radius_cm`` > 0 averages the model
    over the detector's radial extent (a detector of that half-length along the radius).
    """

    phantom_cm: float = 30.0
    voxel_cm: float = 0.2
    detector_radius_cm: float = 0.0
    material: str = "water"

    def __post_init__(self):
        self.phantom_cm = _pos("phantom_cm", self.phantom_cm)
        self.voxel_cm = _pos("voxel_cm", self.voxel_cm)
        self.detector_radius_cm = _pos("detector_radius_cm", self.detector_radius_cm, zero=True)
        n = self.phantom_cm / self.voxel_cm
        if abs(n - round(n)) > 1e-6 or round(n) % 2:
            raise InputError(f"phantom_cm / voxel_cm must be an even whole number, got {self.phantom_cm:g} / "
                             f"{self.voxel_cm:g}")

    def describe(self) -> dict:
        return {"type": "water_point", "phantom_cm": self.phantom_cm, "voxel_cm": self.voxel_cm,
                "detector_radius_cm": self.detector_radius_cm, "material": self.material}


def _pos(name, v, zero=False):
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {v!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not zero):
        raise InputError(f"{name} must be finite and {'>=' if zero else '>'} 0, got {v!r}")
    return x


# ============================================================================ bases
@dataclass
class ElectronBasis:
    """Central-axis dose per incident electron (Gy) for each energy bin, at angular spread 0 and
    ``sigma_max``: ``dose[a, k, j]`` (a = spread index, k = energy bin, j = depth bin)."""

    e_edges: np.ndarray
    z_edges: np.ndarray
    sigmas: np.ndarray
    dose: np.ndarray
    var: np.ndarray
    histories_per_bin: int
    geometry: WaterBeamGeometry
    cpu_s: float = 0.0
    correlated: bool = False

    @property
    def z_mid(self):
        return 0.5 * (self.z_edges[1:] + self.z_edges[:-1])


@dataclass
class XrayBasis:
    """Dose at the reference points per emitted photon (Gy) for each energy bin: ``dose[k, j]`` at
    radii ``r_cm[j]`` (the measurement radii and, if needed, the normalisation radius)."""

    e_edges_keV: np.ndarray
    r_cm: np.ndarray
    dose: np.ndarray
    var: np.ndarray
    histories_per_bin: int
    geometry: WaterPointGeometry
    cpu_s: float = 0.0


def _mc():
    """The simulation API (imported lazily: numba only when a basis is simulated)."""
    from types import SimpleNamespace

    from ..geometry import Phantom
    from ..sources import ElectronBeam, PointSource, Spectrum
    from ..transport.run import simulate

    return SimpleNamespace(Phantom=Phantom, ElectronBeam=ElectronBeam, PointSource=PointSource, Spectrum=Spectrum,
                           simulate=simulate)


def _cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _beam_phantom(geom: WaterBeamGeometry, depth: float):
    mc = _mc()

    fx, fy = geom.field_extent()
    h = geom.lateral_voxel_cm
    margin = 2.0
    half = [0.5 * f + 0.5 * geom.detector_width_cm + margin for f in (fx, fy)]
    n = [2 * int(math.ceil(hh / h)) for hh in half]
    nz = int(round(depth / geom.bin_cm))
    if nz < 2 or abs(nz * geom.bin_cm - depth) > 1e-6 * depth + 1e-9:
        raise InputError(f"phantom depth {depth:g} cm must be a whole number (>= 2) of {geom.bin_cm:g} cm bins")
    ph = mc.Phantom.box(shape=(nz, n[1], n[0]), voxel_size=(h, h, geom.bin_cm), material=geom.material,
                        origin=(-0.5 * n[0] * h, -0.5 * n[1] * h, 0.0))
    # overlap weight of each lateral voxel: fraction of the detector inside the field shifted by u
    sub = 4
    g = (np.arange(sub) + 0.5) / sub - 0.5
    xc = (np.arange(n[0]) + 0.5) * h - 0.5 * n[0] * h
    yc = (np.arange(n[1]) + 0.5) * h - 0.5 * n[1] * h
    pts = geom.detector_points()
    w = np.zeros((n[1], n[0]))
    for gy in g:
        for gx in g:
            ux = xc[None, :, None] + gx * h
            uy = yc[:, None, None] + gy * h
            # detector point p is covered by a field particle at p - u  <=>  p - u in F
            inside = geom.in_field(pts[None, None, :, 0] - ux, pts[None, None, :, 1] - uy)
            w += inside.mean(axis=2)
    w /= sub * sub
    return ph, w * (h * h / geom.field_area_cm2)


def _histories(n):
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise InputError(f"histories_per_bin must be a whole number, got {n!r}") from None
    if n < 100:
        raise InputError(f"histories_per_bin must be >= 100, got {n}")
    return n


def electron_basis(geometry: WaterBeamGeometry, e_edges_MeV, *, histories_per_bin=20000, sigma_max=0.1,
                   depth_cm=None, seed=1, threads=None, correlated=False, **options) -> ElectronBasis:
    """Simulate the electron basis: one pencil-beam run per energy bin and angular spread.

    ``correlated=True`` runs every member with the same seed (correlated sampling): the
    statistical fluctuations of neighbouring energy bins and of the two angular spreads are then
    largely shared (default False: independent seeds, which gave the better fits in the recovery test;
    with correlated members the 9 MeV recovery had chi2/dof 18 instead of 6). Intended: the *differences*
    between members, which carry the information on the energy
    and the angular spread, are much less noisy than the members themselves; a fit is then less
    prone to read basis noise as a change of shape. The model's variance is then propagated as fully
    correlated (an upper bound).
    """
    mc = _mc()

    e = _finite_array("energy bin edges (MeV)", e_edges_MeV)
    if e.size < 2 or np.any(np.diff(e) <= 0) or e[0] < 0.01 or e[-1] > 20.0:
        raise InputError(f"energy bin edges must increase within [0.01, 20] MeV, got {e[0]:g} ... {e[-1]:g}")
    n = _histories(histories_per_bin)
    sigma_max = _pos("sigma_max", sigma_max)
    if sigma_max > 0.5:
        raise InputError(f"sigma_max must be <= 0.5 rad, got {sigma_max}")
    depth = depth_cm or geometry.depth_cm
    if depth is None:
        raise InputError("the basis needs a phantom depth (depth_cm)")
    ph, w = _beam_phantom(geometry, float(depth))
    nz = ph.shape[0] if hasattr(ph, "shape") else ph.index.shape[0]
    sigmas = np.array([0.0, sigma_max])
    dose = np.zeros((2, e.size - 1, nz))
    var = np.zeros_like(dose)
    opts = dict(options)
    if threads is not None:
        opts["threads"] = threads
    c0 = _cpu()
    for a, s in enumerate(sigmas):
        for k in range(e.size - 1):
            src = mc.ElectronBeam(mc.Spectrum(edges=e[k:k + 2], weights=[1.0]), position=(0.0, 0.0, -0.5),
                                  angular_spread=float(s))
            r = mc.simulate(ph, src, histories=n, seed=seed if correlated else seed + 1000 * a + k, **opts)
            dose[a, k] = np.einsum("zyx,yx->z", r.dose, w)
            # voxels treated as independent: a lower bound of the variance (lateral voxels of one depth
            # are positively correlated through histories that cross them)
            var[a, k] = np.einsum("zyx,yx->z", (r.dose * r.uncertainty) ** 2, w * w)
    z_edges = np.arange(nz + 1) * geometry.bin_cm
    return ElectronBasis(e, z_edges, sigmas, dose, var, n, geometry, _cpu() - c0, bool(correlated))


def _q_correction(ph, centre):
    """Exact voxel mean of 1/r^2 times r_centre^2 (for every voxel), by 4^3-point quadrature."""
    nz, ny, nx = ph.index.shape
    h = ph.voxel_size
    o = ph.origin
    zc = o[2] + (np.arange(nz) + 0.5) * h[2] - centre[2]
    yc = o[1] + (np.arange(ny) + 0.5) * h[1] - centre[1]
    xc = o[0] + (np.arange(nx) + 0.5) * h[0] - centre[0]
    Z, Y, X = np.meshgrid(zc, yc, xc, indexing="ij")
    r2 = X * X + Y * Y + Z * Z
    g = (np.arange(4) + 0.5) / 4 - 0.5
    acc = np.zeros_like(r2)
    for a in g:
        for b in g:
            for c in g:
                acc += 1.0 / ((X + a * h[0]) ** 2 + (Y + b * h[1]) ** 2 + (Z + c * h[2]) ** 2)
    acc /= 64.0
    return np.sqrt(r2), acc


def _radial_points(dose, unc, rvox, inv_r2, r_cm, h, detector_radius):
    """Dose at radius r from the voxels around it.

    Each voxel's dose is divided by its exact mean of 1/r^2 (``inv_r2``), which leaves
    Q = D r^2, a slowly varying function of r; Q(r) is then the value at r of a quadratic in
    (r_vox - r) fitted by least squares to the voxels whose centres lie within ``max(h, detector)``
    of r (a plain shell average would be biased: a shell holds more voxels outside r than inside).
    A detector of radial half-length ``detector_radius`` > 0 is represented by averaging the
    quadratic over [r - a, r + a]. Returns D(r) = Q(r) / r^2 and its variance.
    """
    out = np.zeros(len(r_cm))
    var = np.zeros(len(r_cm))
    q = dose / inv_r2
    qv = (dose * unc / inv_r2) ** 2
    for j, r in enumerate(r_cm):
        half = max(h, detector_radius)
        sel = np.abs(rvox - r) < half
        if sel.sum() < 6:
            raise InputError(f"radius {r:g} cm: too few voxels around it for a voxel size of {h:g} cm")
        t = rvox[sel] - r
        A = np.column_stack([np.ones_like(t), t, t * t])
        # evaluation functional: value at r, or the mean over the detector's radial extent
        a = detector_radius
        ev = np.array([1.0, 0.0, a * a / 3.0])
        coef = ev @ np.linalg.pinv(A)          # linear weights of the voxels
        out[j] = float(coef @ q[sel]) / r ** 2
        var[j] = float(coef ** 2 @ qv[sel]) / r ** 4
    return out, var


def xray_basis(geometry: WaterPointGeometry, e_edges_keV, r_cm, *, histories_per_bin=100000, seed=1,
               threads=None) -> XrayBasis:
    """Simulate the X-ray basis: one point-source run (collision kerma) per energy bin."""
    mc = _mc()

    e = _finite_array("energy bin edges (keV)", e_edges_keV)
    if e.size < 2 or np.any(np.diff(e) <= 0) or e[0] < 1.0 or e[-1] > 300.0:
        raise InputError(f"energy bin edges must increase within [1, 300] keV, got {e[0]:g} ... {e[-1]:g}")
    r = _finite_array("radii (cm)", r_cm)
    if np.any(r > 0.5 * geometry.phantom_cm - geometry.voxel_cm) or np.any(r <= 0):
        bad = r[(r <= 0) | (r > 0.5 * geometry.phantom_cm - geometry.voxel_cm)][0]
        raise InputError(f"radius {bad:g} cm is outside the {geometry.phantom_cm:g} cm phantom (radii must be in "
                         f"(0, {0.5 * geometry.phantom_cm - geometry.voxel_cm:g}] cm)")
    n = _histories(histories_per_bin)
    nv = int(round(geometry.phantom_cm / geometry.voxel_cm))
    half = 0.5 * geometry.phantom_cm
    ph = mc.Phantom.box(shape=(nv, nv, nv), voxel_size=geometry.voxel_cm, material=geometry.material,
                        origin=(-half, -half, -half))
    rvox, inv_r2 = _q_correction(ph, (0.0, 0.0, 0.0))
    keep = rvox <= r.max() + geometry.voxel_cm + geometry.detector_radius_cm
    rvox_k, inv_k = rvox[keep], inv_r2[keep]
    dose = np.zeros((e.size - 1, r.size))
    var = np.zeros_like(dose)
    opts = {} if threads is None else {"threads": threads}
    c0 = _cpu()
    for k in range(e.size - 1):
        src = mc.PointSource(mc.Spectrum(edges=e[k:k + 2] * 1e-3, weights=[1.0]), position=(0.0, 0.0, 0.0))
        res = mc.simulate(ph, src, histories=n, seed=seed + k, scoring="kerma", **opts)
        dose[k], var[k] = _radial_points(res.dose[keep], res.uncertainty[keep], rvox_k, inv_k, r,
                                         geometry.voxel_cm, geometry.detector_radius_cm)
    return XrayBasis(e, r, dose, var, n, geometry, _cpu() - c0)


# ============================================================================ fitting helpers
def _gauss_weights(edges, mean, fwhm):
    from scipy.special import erf

    s = max(fwhm / _FWHM, 1e-6)
    c = 0.5 * (1.0 + erf((edges - mean) / (s * math.sqrt(2.0))))
    w = np.diff(c)
    tot = w.sum()
    if tot <= 1e-12:
        return None
    return w / tot


def _covariance(J, scale):
    JTJ = J.T @ J
    try:
        cov = np.linalg.pinv(JTJ, rcond=1e-12) * scale
    except np.linalg.LinAlgError:  # pragma: no cover
        cov = np.full(JTJ.shape, np.inf)
    return cov


def _numeric_jacobian(fun, p, steps):
    f0 = fun(p)
    J = np.zeros((f0.size, p.size))
    for i in range(p.size):
        dp = np.zeros_like(p)
        dp[i] = steps[i]
        J[:, i] = (fun(p + dp) - fun(p - dp)) / (2 * steps[i])
    return J


def _second_difference(n):
    L = np.zeros((max(n - 2, 0), n))
    for i in range(n - 2):
        L[i, i:i + 3] = (1.0, -2.0, 1.0)
    return L


def _reg_nnls(A, b, lam):
    """min |A w - b|^2 + lam |L w|^2 with w >= 0 (L = second differences)."""
    from scipy.optimize import nnls

    L = _second_difference(A.shape[1])
    scale = np.linalg.norm(A) / max(np.linalg.norm(L), 1e-300)
    M = np.vstack([A, math.sqrt(lam) * scale * L])
    y = np.concatenate([b, np.zeros(L.shape[0])])
    w, _ = nnls(M, y, maxiter=50 * A.shape[1])
    return w


# ============================================================================ result
@dataclass
class CommissionResult:
    """A commissioned source: fitted parameters, spectrum, fit data and provenance."""

    kind: str
    name: str
    parameters: dict
    uncertainties: dict
    correlation: list
    parameter_names: list
    spectrum_edges_MeV: np.ndarray
    spectrum_weights: np.ndarray
    measurement: Measurement
    fitted_basis: np.ndarray
    fitted_final: np.ndarray | None
    final_uncertainty: np.ndarray | None
    chi2: float
    dof: int
    sigma_given: bool
    beam: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    @property
    def fitted(self) -> np.ndarray:
        return self.fitted_final if self.fitted_final is not None else self.fitted_basis

    @property
    def residuals(self) -> np.ndarray:
        """(fitted - measured) / max(measured)."""
        return (self.fitted - self.measurement.dose) / float(self.measurement.dose.max())

    def spectrum(self):
        from ..sources import Spectrum

        return Spectrum(edges=self.spectrum_edges_MeV, weights=self.spectrum_weights, name=self.name,
                        origin="commissioned")

    def electron_beam(self, **geometry):
        from ..sources import ElectronBeam

        if self.kind != "electron_beam":
            raise InputError("this commissioned source is an X-ray spectrum, not an electron beam")
        kw = {"angular_spread": self.beam.get("angular_spread_rad", 0.0)}
        if self.beam.get("source_distance_cm") is not None:
            kw["source_distance"] = self.beam["source_distance_cm"]
        kw.update(geometry)
        return ElectronBeam(self.spectrum(), **kw)

    def summary(self) -> str:
        lines = [f"commissioned {self.kind} '{self.name}'"]
        for k in self.parameter_names:
            u = self.uncertainties.get(k)
            lines.append(f"  {k:24s} {self.parameters[k]:.6g}  +- {u:.3g}" if u is not None and math.isfinite(u)
                         else f"  {k:24s} {self.parameters[k]:.6g}  (not constrained by these data)")
        for k, v in self.parameters.items():
            if k not in self.parameter_names:
                how = "derived" if k.startswith("mean_energy") or (k == "energy_fwhm_MeV" and
                                                                    self.fit.get("method") == "spectrum") else "fixed"
                lines.append(f"  {k:24s} {v:.6g}  ({how})")
        lines.append(f"  chi2/dof = {self.chi2:.3g}/{self.dof}"
                     + ("" if self.sigma_given else " (no uncertainties given: 1 % of the maximum assumed)"))
        for k, v in self.fit.items():
            if k.startswith("basis_") or k.startswith("max_") or k.endswith("_cpu_s"):
                lines.append(f"  {k:24s} {v}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ file
    def to_dict(self) -> dict:
        m = self.measurement
        edges = self.spectrum_edges_MeV
        d = {
            "schema": SCHEMA, "kind": self.kind, "name": self.name,
            "description": self.provenance.get("description", ""),
            "created": self.provenance.get("created", ""),
            "parameters": {k: float(v) for k, v in self.parameters.items()},
            "uncertainties": {k: float(v) for k, v in self.uncertainties.items() if math.isfinite(v)},
            "correlation": {"names": list(self.parameter_names),
                            "matrix": [[float(x) if math.isfinite(x) else 0.0 for x in row] for row in self.correlation]},
            "spectrum": {"e_lo_MeV": [float(x) for x in edges[:-1]], "e_hi_MeV": [float(x) for x in edges[1:]],
                         "weights": [float(x) for x in self.spectrum_weights]},
            "fit": {k: v for k, v in self.fit.items() if v is not None},
            "data": {"kind": m.kind, "position_cm": m.x_cm.tolist(), "measured": m.dose.tolist(),
                     "sigma": self.measurement.weights_sigma()[0].tolist(), "sigma_given": self.sigma_given,
                     "fitted_basis": self.fitted_basis.tolist(), "fitted": self.fitted.tolist(),
                     "residual_of_max": self.residuals.tolist()},
            "provenance": {k: v for k, v in self.provenance.items() if v is not None and k not in ("description", "created")},
        }
        if m.normalised_at_cm is not None:
            d["data"]["normalised_at_cm"] = m.normalised_at_cm
        if self.final_uncertainty is not None:
            d["data"]["fitted_rel_uncertainty"] = self.final_uncertainty.tolist()
        if self.beam:
            d["beam"] = {k: v for k, v in self.beam.items() if v is not None}
        d["fit"]["chi2"] = float(self.chi2)
        d["fit"]["dof"] = int(self.dof)
        return d

    def save(self, path) -> None:
        """Write the commissioned source file (TOML, atomically)."""
        text = _toml(self.to_dict())

        def write(tmp):
            with open(tmp, "w") as f:
                f.write(text)

        atomic_write(path, write)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return '"nan"'
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return _toml_value(str(v))


def _key(k):
    import re

    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(k)


def _toml(d: dict) -> str:
    out = ["# iortmc commissioned source file (docs/commissioning.md)"]
    tables = []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            out.append(f"{_key(k)} = {_toml_value(v)}")
    for name, t in tables:
        out.append("")
        out.append(f"[{name}]")
        for k, v in t.items():
            out.append(f"{_key(k)} = {_toml_value(v)}")
    return "\n".join(out) + "\n"


def _provenance(measurement: Measurement, geometry, description, extra=None) -> dict:
    from .. import __version__

    p = {"iortmc_version": __version__, "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "description": description, "geometry": geometry.describe()}
    if measurement.source:
        p["measurement_file"] = measurement.source
        try:
            p["measurement_sha256"] = hashlib.sha256(Path(measurement.source).read_bytes()).hexdigest()
        except OSError:
            pass
    if extra:
        p.update(extra)
    return p


def _corr(cov):
    d = np.sqrt(np.abs(np.diag(cov)))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = cov / np.outer(d, d)
    return np.where(np.isfinite(c), c, 0.0).tolist()


# ============================================================================ electrons
def _depth_model(basis: ElectronBasis, mix, x_cm, svd=None, sigma_frac=0.0):
    """Central-axis dose at the measurement depths for bin weights ``mix`` (n_bins) and angular
    fraction ``sigma_frac`` = (sigma/sigma_max)^2; with variances."""
    d = (1.0 - sigma_frac) * (mix @ basis.dose[0]) + sigma_frac * (mix @ basis.dose[1])
    if basis.correlated:   # members share their random numbers: add standard deviations
        v = ((1.0 - sigma_frac) * (mix @ np.sqrt(basis.var[0])) + sigma_frac * (mix @ np.sqrt(basis.var[1]))) ** 2
    else:
        v = (1.0 - sigma_frac) ** 2 * ((mix ** 2) @ basis.var[0]) + sigma_frac ** 2 * ((mix ** 2) @ basis.var[1])
    return _depth_sample(basis, d, v, x_cm, svd)


def _depth_sample(basis, d, v, x_cm, svd):
    zm = basis.z_mid
    L = basis.geometry.detector_length_cm
    if svd is not None:
        f = (svd / (svd + zm)) ** 2
        d, v = d * f, v * f * f
    if L > 0:
        off = (np.arange(9) + 0.5) / 9 - 0.5
        pts = x_cm[:, None] + L * off[None, :]
        m = np.interp(pts, zm, d).mean(axis=1)
        mv = np.interp(pts, zm, v).mean(axis=1)
    else:
        m = np.interp(x_cm, zm, d)
        mv = np.interp(x_cm, zm, v)
    return m, mv


def _electron_checks(m: Measurement, geometry, n_params, depth):
    if m.kind != "depth":
        raise InputError("an electron beam is commissioned to a depth dose (kind 'depth'), got a radial dose")
    if m.n <= n_params:
        raise InputError(f"{m.n} measured points cannot determine {n_params} parameters; give more points "
                         "than parameters")
    if m.x_cm.max() > depth - 0.5 * geometry.bin_cm:
        raise InputError(f"measurement depth {m.x_cm.max():g} cm is outside the {depth:g} cm phantom")


def commission_electron(measurement: Measurement, geometry: WaterBeamGeometry, *, energy_range_MeV=None,
                        bin_MeV=0.1, fit_spread=True, fit_angle=True, fit_source_distance=False,
                        method="parametric", regularisation=1e-3, histories_per_bin=20000, sigma_max=0.1,
                        final_histories=None, seed=1, threads=None, basis=None, name="commissioned IOERT beam",
                        progress=None) -> CommissionResult:
    """Commission an electron beam to a central-axis depth dose.

    Parameters
    ----------
    measurement : Measurement
        Depth dose (kind ``depth``), any normalisation (a free scale factor is fitted).
    geometry : WaterBeamGeometry
        Field and detector.
    energy_range_MeV : (lo, hi), optional
        Range of the energy basis. Default: around the practical estimate E0 = 2.33 MeV/cm x R50
        (AAPM TG-25, Khan et al., Med. Phys. 18 (1991) 73), +-1.5 MeV.
    bin_MeV : float
        Width of the energy bins of the basis.
    fit_spread, fit_angle, fit_source_distance : bool
        Which parameters are free (the mean energy always is). A fixed energy spread is 0 FWHM, a
        fixed angular spread 0 rad.
    method : {"parametric", "spectrum"}
        ``parametric``: Gaussian energy spectrum (mean, FWHM); ``spectrum``: free non-negative bin
        weights with a second-difference penalty ``regularisation`` (then the mean and FWHM are
        derived from the fitted spectrum).
    histories_per_bin : int
        Histories of each basis run (2 angular spreads x bins runs in all).
    final_histories : int, optional
        Histories of the final full simulation of the fitted beam (default: 10 x histories_per_bin;
        0 = no final simulation).
    basis : ElectronBasis, optional
        Reuse a basis simulated before (same geometry).
    """
    from scipy.optimize import least_squares

    if not isinstance(measurement, Measurement):
        raise InputError(f"measurement must be an iortmc Measurement, got {type(measurement).__name__}")
    if not isinstance(geometry, WaterBeamGeometry):
        raise InputError(f"geometry must be a WaterBeamGeometry, got {type(geometry).__name__}")
    if method not in ("parametric", "spectrum"):
        raise InputError(f"method must be 'parametric' or 'spectrum', got {method!r}")
    m = measurement
    names = ["mean_energy_MeV"] + (["energy_fwhm_MeV"] if fit_spread else []) + (
        ["angular_spread_rad"] if fit_angle else []) + (["source_distance_cm"] if fit_source_distance else [])
    depth = geometry.depth_cm or (math.ceil((m.x_cm.max() + 2.0) / geometry.bin_cm) * geometry.bin_cm)
    n_lin = 1
    _electron_checks(m, geometry, len(names) + n_lin, depth)
    # first estimate of the energy from R50 of the data (for the default basis range only)
    rel = m.dose / m.dose.max()
    imax = int(np.argmax(rel))
    below = np.nonzero(rel[imax:] < 0.5)[0]
    r50 = None
    if below.size:
        i = imax + int(below[0])
        r50 = float(np.interp(0.5, [rel[i], rel[i - 1]], [m.x_cm[i], m.x_cm[i - 1]]))
    if energy_range_MeV is None:
        if r50 is None:
            raise InputError("the depth dose does not fall below 50 % of its maximum; give energy_range_MeV")
        e_est = 2.33 * r50
        energy_range_MeV = (max(0.2, e_est - 1.5), min(20.0, e_est + 1.5))
    lo, hi = (float(v) for v in energy_range_MeV)
    if not (0.01 <= lo < hi <= 20.0):
        raise InputError(f"energy_range_MeV must satisfy 0.01 <= lo < hi <= 20, got {energy_range_MeV!r}")
    nb = max(1, int(round((hi - lo) / bin_MeV)))
    e_edges = np.linspace(lo, hi, nb + 1)
    t0 = _cpu()
    if basis is None:
        basis = electron_basis(geometry, e_edges, histories_per_bin=histories_per_bin, sigma_max=sigma_max,
                               depth_cm=depth, seed=seed, threads=threads)
        if progress:
            progress(f"basis: {basis.dose.shape[0] * basis.dose.shape[1]} runs, {basis.cpu_s:.1f} s CPU")
    e_edges = basis.e_edges
    sigma_max = float(basis.sigmas[1])
    s_meas, s_given = m.weights_sigma()
    e_mid = 0.5 * (e_edges[1:] + e_edges[:-1])

    def unpack(p):
        q = dict(zip(names, p))
        return (q["mean_energy_MeV"], q.get("energy_fwhm_MeV", 0.0), q.get("angular_spread_rad", 0.0),
                q.get("source_distance_cm"))

    def model(p, with_var=False):
        e0, fw, sa, svd = unpack(p)
        mix = _gauss_weights(e_edges, e0, fw)
        if mix is None:
            return None
        d, v = _depth_model(basis, mix, m.x_cm, svd, (sa / sigma_max) ** 2)
        return (d, v) if with_var else d

    def profile(d):
        """Best scale factor (weighted linear least squares) for model curve d."""
        w = 1.0 / s_meas ** 2
        den = float(np.sum(w * d * d))
        return float(np.sum(w * d * m.dose)) / den if den > 0 else 0.0

    def resid(p):
        d = model(p)
        if d is None:
            return np.full(m.n, 1e3)
        return (profile(d) * d - m.dose) / s_meas

    if method == "parametric":
        bounds_lo = [e_edges[0] + 0.5 * bin_MeV] + ([0.0] if fit_spread else []) + ([0.0] if fit_angle else []) + (
            [20.0] if fit_source_distance else [])
        bounds_hi = [e_edges[-1] - 0.5 * bin_MeV] + ([2.0] if fit_spread else []) + ([sigma_max] if fit_angle else []) + (
            [1000.0] if fit_source_distance else [])
        # coarse start: scan the mean energy
        best = None
        for e0 in np.linspace(bounds_lo[0], bounds_hi[0], 25):
            p = np.array([e0] + ([0.2] if fit_spread else []) + ([0.03] if fit_angle else []) + (
                [100.0] if fit_source_distance else []))
            c = float(np.sum(resid(p) ** 2))
            if best is None or c < best[0]:
                best = (c, p)
        sol = least_squares(resid, best[1], bounds=(bounds_lo, bounds_hi), x_scale="jac", method="trf",
                            diff_step=1e-4)
        p = sol.x
        e0, fw, sa, svd = unpack(p)
        mix = _gauss_weights(e_edges, e0, fw)
    else:
        A = np.zeros((m.n, nb))
        for k in range(nb):
            one = np.zeros(nb)
            one[k] = 1.0
            A[:, k] = _depth_sample(basis, basis.dose[0][k], basis.var[0][k], m.x_cm, None)[0]
        scale = float(np.max(A))
        w = _reg_nnls(A / s_meas[:, None] / scale, m.dose / s_meas, regularisation)
        if w.sum() <= 0:
            raise InputError("the regularised spectrum fit gave zero weights; check the energy range")
        mix = w / w.sum()
        e0 = float(np.sum(mix * e_mid))
        fw = float(_FWHM * math.sqrt(max(np.sum(mix * (e_mid - e0) ** 2), 0.0)))
        sa, svd = 0.0, None
        p = np.array([e0])
        names = ["mean_energy_MeV"]
    d_fit, v_fit = _depth_model(basis, mix, m.x_cm, svd, (sa / sigma_max) ** 2)
    norm = profile(d_fit)
    chi2 = float(np.sum(((norm * d_fit - m.dose) / s_meas) ** 2))
    dof = max(m.n - len(names) - 1, 1)
    scale = 1.0 if s_given else chi2 / dof

    # covariance of (params, norm): measurement part and basis-noise part
    def full_resid(q):
        d = model(q[:-1]) if method == "parametric" else d_fit
        return (q[-1] * d - m.dose) / s_meas

    steps = np.array([1e-3 * max(abs(x), 1e-2) for x in p] + [1e-4 * abs(norm)])
    q = np.append(p, norm)
    if method == "parametric":
        J = _numeric_jacobian(full_resid, q, steps)
    else:
        J = (d_fit / s_meas)[:, None]
    cov = _covariance(J, scale)
    G = np.linalg.pinv(J.T @ J, rcond=1e-12) @ J.T
    cov_basis = G @ np.diag(norm ** 2 * v_fit / s_meas ** 2) @ G.T
    unc = {}
    all_names = names + ["normalisation"]
    if method == "spectrum":
        all_names = ["normalisation"]
        cov_e = np.array([[0.0]])
    for i, k in enumerate(all_names):
        var = cov[i, i] + cov_basis[i, i]
        unc[k] = float(math.sqrt(var)) if var >= 0 and math.isfinite(var) else float("nan")
    # a parameter the data do not constrain: uncertainty larger than its allowed range
    if "angular_spread_rad" in unc and unc["angular_spread_rad"] > sigma_max:
        unc["angular_spread_rad"] = float("inf")
    corr = _corr(cov + cov_basis)
    t_fit = _cpu() - t0
    params = {"mean_energy_MeV": float(e0), "energy_fwhm_MeV": float(fw), "angular_spread_rad": float(sa)}
    if svd is not None:
        params["source_distance_cm"] = float(svd)
    params["normalisation"] = float(norm)
    fit = {"method": method, "energy_bin_MeV": float(e_edges[1] - e_edges[0]),
           "energy_range_MeV": [float(e_edges[0]), float(e_edges[-1])],
           "basis_histories_per_bin": int(basis.histories_per_bin),
           "basis_runs": int(basis.dose.shape[0] * basis.dose.shape[1]),
           "basis_cpu_s": round(float(basis.cpu_s), 2), "sigma_max_rad": sigma_max,
           "r50_data_cm": r50}
    if method == "parametric":
        ub = math.sqrt(max(cov_basis[0, 0], 0.0))
        fit["basis_u_mean_energy_MeV"] = ub
        # histories per bin for a basis contribution of 0.01 MeV to u(E0)
        fit["basis_histories_per_bin_for_0.01MeV"] = int(math.ceil(basis.histories_per_bin * (ub / 0.01) ** 2))
    # final full simulation of the fitted beam, in the same geometry
    final = None
    final_unc = None
    nfinal = 10 * basis.histories_per_bin if final_histories is None else int(final_histories)
    if nfinal > 0:
        mc = _mc()

        ph, w = _beam_phantom(geometry, float(basis.z_edges[-1]))
        src = mc.ElectronBeam(mc.Spectrum(edges=e_edges, weights=mix), position=(0.0, 0.0, -0.5), angular_spread=sa)
        opts = {} if threads is None else {"threads": threads}
        r = mc.simulate(ph, src, histories=nfinal, seed=seed + 777777, **opts)
        dz = np.einsum("zyx,yx->z", r.dose, w)
        vz = np.einsum("zyx,yx->z", (r.dose * r.uncertainty) ** 2, w * w)
        fd, fv = _depth_sample(basis, dz, vz, m.x_cm, svd)
        final = norm * fd
        final_unc = np.sqrt(fv) / np.maximum(fd, 1e-300)
        fit["final_histories"] = nfinal
        fit["final_chi2"] = float(np.sum(((final - m.dose) / s_meas) ** 2))
    fitted_basis = norm * d_fit
    cur = final if final is not None else fitted_basis
    sel = m.dose >= 0.2 * m.dose.max()
    fit["max_abs_residual_above_20pct"] = float(np.max(np.abs(cur[sel] - m.dose[sel])) / m.dose.max())
    fit["total_cpu_s"] = round(_cpu() - t0, 2)
    fit["fit_cpu_s"] = round(t_fit - basis.cpu_s, 3)
    beam = {"angular_spread_rad": float(sa), "source_distance_cm": None if svd is None else float(svd)}
    prov = _provenance(m, geometry, f"electron beam fitted to a depth dose; E0 = {e0:.3f} MeV, FWHM = {fw:.3f} MeV, "
                                    f"sigma_theta = {sa:.4f} rad", {"seed": int(seed)})
    ordered_unc = {k: unc.get(k, float("nan")) for k in all_names}
    return CommissionResult("electron_beam", name, params, ordered_unc, corr, all_names, e_edges, mix, m,
                            fitted_basis, final, final_unc, chi2, dof, s_given, beam, fit, prov)


# ============================================================================ X-rays
def commission_xray(measurement: Measurement, geometry: WaterPointGeometry | None = None, *, kvp=50.0,
                    filters=("aluminium",), fixed_filters=None, fit_l_lines=False, fit_kvp=False,
                    method="parametric", regularisation=1e-2, e_edges_keV=None, histories_per_bin=100000,
                    final_histories=None, seed=1, threads=None, basis=None, quantity="dose",
                    name="commissioned 50 kV source") -> CommissionResult:
    """Commission a low-kV X-ray source spectrum to a radial dose (or radial dose function) in water.

    Parameters
    ----------
    measurement : Measurement
        Radial dose (kind ``radial``); with ``normalised_at_cm`` the data are a ratio (e.g. g(r)
        normalised at 1 cm) and the model is normalised at the same radius.
    geometry : WaterPointGeometry, optional
        Phantom and detector (default: 30 cm water cube, 2 mm voxels).
    kvp : float
        Tube potential (kV); fitted too with ``fit_kvp``.
    filters : sequence of material names
        Filters whose thicknesses are fitted (cm), e.g. ``("aluminium",)`` or ``("tungsten", "water")``.
    fixed_filters : dict, optional
        Further filtration held fixed, {material: cm}.
    fit_l_lines : bool
        Fit the tungsten L-line strength (L photons per bremsstrahlung photon); else none.
    method : {"parametric", "spectrum"}
        ``spectrum``: free non-negative bin weights below kVp with a second-difference penalty.
    e_edges_keV : array, optional
        Basis bins (default 4 to kVp in 2 keV steps).
    quantity : {"dose", "radial_dose_function"}
        What the data are: the dose D(r), or the TG-43 radial dose function of a point source,
        g(r) = D(r) r^2 / (D(r0) r0^2) (give ``normalised_at_cm = r0`` with it).
    """
    from scipy.optimize import least_squares

    from .xray_model import tungsten_spectrum

    if not isinstance(measurement, Measurement):
        raise InputError(f"measurement must be an iortmc Measurement, got {type(measurement).__name__}")
    m = measurement
    if quantity not in ("dose", "radial_dose_function"):
        raise InputError(f"quantity must be 'dose' or 'radial_dose_function', got {quantity!r}")
    if quantity == "radial_dose_function" and m.normalised_at_cm is None:
        raise InputError("a radial dose function is normalised at r0: give the measurement normalised_at_cm")
    if m.kind != "radial":
        raise InputError("an X-ray source is commissioned to a radial dose (kind 'radial'), got a depth dose")
    geometry = geometry or WaterPointGeometry()
    if method not in ("parametric", "spectrum"):
        raise InputError(f"method must be 'parametric' or 'spectrum', got {method!r}")
    kvp = _pos("kvp", kvp)
    filters = [filters] if isinstance(filters, str) else list(filters)
    fixed = dict(fixed_filters or {})
    from ..physics.materials import material as _mat

    for f in filters + list(fixed):
        _mat(f)  # unknown material -> InputError naming it
    names = [f"filter_{f}_cm" for f in filters] + (["l_fraction"] if fit_l_lines else []) + (
        ["kvp_kV"] if fit_kvp else [])
    norm_free = m.normalised_at_cm is None
    n_par = (len(names) if method == "parametric" else 0) + (1 if norm_free else 0)
    if m.n <= n_par:
        raise InputError(f"{m.n} measured points cannot determine {n_par} parameters; give more points than "
                         "parameters")
    if m.x_cm.max() > 0.5 * geometry.phantom_cm - geometry.voxel_cm:
        raise InputError(f"measurement radius {m.x_cm.max():g} cm is outside the {geometry.phantom_cm:g} cm phantom")
    if e_edges_keV is None:
        top = kvp + (10.0 if fit_kvp else 0.0)
        e_edges_keV = np.arange(4.0, top + 1e-9, 2.0)
        if e_edges_keV[-1] < top:
            e_edges_keV = np.append(e_edges_keV, top)
    r_all = np.unique(np.concatenate([m.x_cm, [] if norm_free else [m.normalised_at_cm]]))
    t0 = _cpu()
    if basis is None:
        basis = xray_basis(geometry, e_edges_keV, r_all, histories_per_bin=histories_per_bin, seed=seed,
                           threads=threads)
    e = basis.e_edges_keV
    idx = np.array([int(np.argmin(np.abs(basis.r_cm - x))) for x in m.x_cm])
    i0 = None if norm_free else int(np.argmin(np.abs(basis.r_cm - m.normalised_at_cm)))
    if np.any(np.abs(basis.r_cm[idx] - m.x_cm) > 1e-9) or (i0 is not None and abs(basis.r_cm[i0] - m.normalised_at_cm) > 1e-9):
        raise InputError("the basis was simulated at other radii than the measurement's")
    # geometry factor: g(r) removes the inverse square of a point source
    gfac = basis.r_cm ** 2 if quantity == "radial_dose_function" else np.ones(basis.r_cm.size)
    s_meas, s_given = m.weights_sigma()

    def curve(mix):
        d = (mix @ basis.dose) * gfac
        v = ((mix ** 2) @ basis.var) * gfac ** 2
        if i0 is None:
            return d[idx], v[idx]
        g = d[idx] / d[i0]
        gv = g ** 2 * (v[idx] / d[idx] ** 2 + v[i0] / d[i0] ** 2) * np.where(idx == i0, 0.0, 1.0)
        return g, gv

    def spec(p):
        q = dict(zip(names, p))
        f = dict(fixed)
        for k in filters:
            f[k] = f.get(k, 0.0) + max(float(q[f"filter_{k}_cm"]), 0.0)   # >= 0 (finite differences at a bound)
        return tungsten_spectrum(e, q.get("kvp_kV", kvp), f, max(float(q.get("l_fraction", 0.0)), 0.0))

    def profile(d):
        if not norm_free:
            return 1.0
        w = 1.0 / s_meas ** 2
        return float(np.sum(w * d * m.dose)) / float(np.sum(w * d * d))

    def resid(p):
        try:
            d = curve(spec(p))[0]
        except InputError:
            return np.full(m.n, 1e3)
        return (profile(d) * d - m.dose) / s_meas

    if method == "parametric":
        lo = [0.0] * len(filters) + ([0.0] if fit_l_lines else []) + ([e[1] + 1.0] if fit_kvp else [])
        hi = [5.0] * len(filters) + ([1.0] if fit_l_lines else []) + ([e[-1]] if fit_kvp else [])
        best = None
        from ..physics.materials import material as _m2

        # start: scan each filter over thicknesses of 0 to 3 half-value layers at 20 keV
        grids = []
        for f in filters:
            mm = _m2(f)
            hvl = math.log(2) / (float(mm.mu_over_rho(np.array([0.02]))[0]) * mm.density)
            grids.append(np.linspace(0.0, 4 * hvl, 9))
        import itertools

        for combo in itertools.product(*grids):
            p0 = np.array(list(combo) + ([0.02] if fit_l_lines else []) + ([kvp] if fit_kvp else []))
            c = float(np.sum(resid(p0) ** 2))
            if best is None or c < best[0]:
                best = (c, p0)
        scale_x = np.array([max(g[1], 1e-4) for g in grids] + ([0.01] if fit_l_lines else []) + (
            [1.0] if fit_kvp else []))
        sol = least_squares(resid, best[1], bounds=(lo, hi), x_scale=scale_x, method="trf", diff_step=1e-4)
        p = sol.x
        mix = spec(p)
    else:
        mid = 0.5 * (e[1:] + e[:-1])
        use = mid < kvp
        D = (basis.dose * gfac[None, :])[:, idx].T[:, use]
        if i0 is not None:
            # ratio data: fit D(r) = g(r) D(r0) with the r0 constraint as an extra, heavily weighted row
            D0 = (basis.dose[:, i0] * gfac[i0])[use]
            rows = D / s_meas[:, None]
            target = np.zeros(m.n)
            A = rows - (m.dose / s_meas)[:, None] * D0[None, :]
            big = 1e3 * np.max(np.abs(A))
            A = np.vstack([A, big * D0[None, :] / np.max(D0)])
            target = np.append(target, big)
            w = _reg_nnls(A, target, regularisation)
        else:
            sc = float(np.max(D))
            w = _reg_nnls(D / s_meas[:, None] / sc, m.dose / s_meas, regularisation)
        mix = np.zeros(e.size - 1)
        mix[use] = w
        if mix.sum() <= 0:
            raise InputError("the regularised spectrum fit gave zero weights")
        mix /= mix.sum()
        p = np.array([])
        names = []
    d_fit, v_fit = curve(mix)
    norm = profile(d_fit)
    chi2 = float(np.sum(((norm * d_fit - m.dose) / s_meas) ** 2))
    n_free = len(names) + (1 if norm_free else 0)
    dof = max(m.n - n_free, 1)
    scale = 1.0 if s_given else chi2 / dof
    all_names = list(names) + (["normalisation"] if norm_free else [])
    unc = {}
    corr = []
    if all_names:
        def full_resid(q):
            d = curve(spec(q[:len(names)]))[0] if names else d_fit
            nn = q[-1] if norm_free else 1.0
            return (nn * d - m.dose) / s_meas

        q = np.array(list(p) + ([norm] if norm_free else []))
        steps = np.array([max(1e-3 * abs(x), 1e-6) for x in q])
        J = _numeric_jacobian(full_resid, q, steps)
        cov = _covariance(J, scale)
        G = np.linalg.pinv(J.T @ J, rcond=1e-12) @ J.T
        cov_b = G @ np.diag(norm ** 2 * v_fit / s_meas ** 2) @ G.T
        for i, k in enumerate(all_names):
            unc[k] = float(math.sqrt(max(cov[i, i] + cov_b[i, i], 0.0)))
        corr = _corr(cov + cov_b)
        if names:
            fit_basis_u = {f"basis_u_{k}": float(math.sqrt(max(cov_b[i, i], 0.0))) for i, k in enumerate(names)}
        else:
            fit_basis_u = {}
    else:
        fit_basis_u = {}
    params = {k: float(v) for k, v in zip(names, p)}
    params.setdefault("kvp_kV", float(kvp))
    for k, v in fixed.items():
        params[f"fixed_filter_{k}_cm"] = float(v)
    if norm_free:
        params["normalisation"] = float(norm)
    mid = 0.5 * (e[1:] + e[:-1])
    params["mean_energy_keV"] = float(np.sum(mix * mid))
    fit = {"method": method, "basis_histories_per_bin": int(basis.histories_per_bin),
           "basis_runs": int(basis.dose.shape[0]), "basis_cpu_s": round(float(basis.cpu_s), 2),
           "energy_bins_keV": [float(e[0]), float(e[-1]), float(e[1] - e[0])], "spectrum_model":
           "Kramers thick-target bremsstrahlung + W L lines, filtered (iortmc.clinical.xray_model)"
           if method == "parametric" else "free non-negative bin weights, second-difference regularisation",
           **fit_basis_u}
    if method == "spectrum":
        fit["regularisation"] = float(regularisation)
    final = final_unc = None
    nfinal = 10 * basis.histories_per_bin if final_histories is None else int(final_histories)
    if nfinal > 0:
        mc = _mc()

        g = geometry
        nv = int(round(g.phantom_cm / g.voxel_cm))
        ph = mc.Phantom.box(shape=(nv, nv, nv), voxel_size=g.voxel_cm, material=g.material,
                            origin=(-0.5 * g.phantom_cm,) * 3)
        rvox, inv_r2 = _q_correction(ph, (0.0, 0.0, 0.0))
        keep = rvox <= basis.r_cm.max() + g.voxel_cm + g.detector_radius_cm
        src = mc.PointSource(mc.Spectrum(edges=e * 1e-3, weights=mix), position=(0.0, 0.0, 0.0))
        opts = {} if threads is None else {"threads": threads}
        res = mc.simulate(ph, src, histories=nfinal, seed=seed + 777777, scoring="kerma", **opts)
        dr, vr = _radial_points(res.dose[keep], res.uncertainty[keep], rvox[keep], inv_r2[keep], basis.r_cm,
                                g.voxel_cm, g.detector_radius_cm)
        dr, vr = dr * gfac, vr * gfac ** 2
        if i0 is None:
            final, fv = norm * dr[idx], norm ** 2 * vr[idx]
        else:
            final = dr[idx] / dr[i0]
            fv = final ** 2 * (vr[idx] / dr[idx] ** 2 + vr[i0] / dr[i0] ** 2) * np.where(idx == i0, 0.0, 1.0)
        final_unc = np.sqrt(fv) / np.maximum(final, 1e-300)
        fit["final_histories"] = nfinal
        fit["final_chi2"] = float(np.sum(((final - m.dose) / s_meas) ** 2))
    cur = final if final is not None else norm * d_fit
    fit["max_abs_relative_residual"] = float(np.max(np.abs(cur / m.dose - 1.0)))
    fit["total_cpu_s"] = round(_cpu() - t0, 2)
    fit["quantity"] = quantity
    prov = _provenance(m, geometry, f"{kvp:g} kV tungsten-anode spectrum fitted to a radial dose"
                       + (f" normalised at {m.normalised_at_cm:g} cm" if not norm_free else ""), {"seed": int(seed)})
    return CommissionResult("xray_spectrum", name, params, unc, corr, all_names, e * 1e-3, mix, m,
                            norm * d_fit, final, final_unc, chi2, dof, s_given, {}, fit, prov)


# ============================================================================ figure
def plot_fit(result: CommissionResult, path, title=None) -> None:
    """Report figure: measured and fitted dose (top) and residuals (bottom), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = result.measurement
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    s, _ = m.weights_sigma()
    top = float(m.dose.max())
    a1.errorbar(m.x_cm, m.dose / top, yerr=s / top, fmt="o", ms=3, color="k", label="measured")
    a1.plot(m.x_cm, result.fitted_basis / top, "-", color="C0", label="fit (basis)")
    if result.fitted_final is not None:
        a1.plot(m.x_cm, result.fitted_final / top, "--", color="C3", label="final full simulation")
    if m.kind == "radial":
        a1.set_yscale("log")
    a1.set_ylabel("dose / max(measured)" if m.normalised_at_cm is None else f"ratio (1 at {m.normalised_at_cm:g} cm)")
    a1.legend(fontsize=8)
    txt = "\n".join(f"{k} = {result.parameters[k]:.4g} ± {result.uncertainties.get(k, float('nan')):.2g}"
                    for k in result.parameter_names if k != "normalisation")
    a1.text(0.98, 0.97, txt, transform=a1.transAxes, ha="right", va="top", fontsize=7,
            bbox={"fc": "white", "ec": "0.7"})
    a1.set_title(title or f"commissioned {result.kind.replace('_', ' ')}")
    if m.kind == "radial":
        res = 100.0 * (result.fitted / m.dose - 1.0)
        a2.set_ylabel("fit / measured - 1 (%)")
        err = 100.0 * s / m.dose
    else:
        res = 100.0 * result.residuals
        a2.set_ylabel("fit - measured\n(% of max)")
        err = 100.0 * s / top
    a2.errorbar(m.x_cm, res, yerr=err, fmt="o", ms=3, color="C3" if result.fitted_final is not None else "C0")
    a2.axhline(0.0, color="0.5", lw=0.8)
    a2.set_xlabel("depth (cm)" if m.kind == "depth" else "radius (cm)")
    fig.tight_layout()

    def write(tmp):
        fig.savefig(tmp, dpi=110, format=Path(str(path)).suffix.lstrip(".") or "png")

    try:
        atomic_write(path, write)
    finally:
        plt.close(fig)
