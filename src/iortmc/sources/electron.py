"""Electron and positron beams: a first IOERT applicator model (parallel or divergent, circular or
rectangular fields).

The beam leaves a plane through ``position`` perpendicular to ``direction``. Start points are uniform
on a disc of diameter ``field_diameter`` or a rectangle ``field_size = (sx, sy)`` in that plane
(``None`` for both: a pencil beam). Each direction is the beam direction tilted by a polar angle
drawn from a 2-D Gaussian of standard deviation ``angular_spread`` (radians, per projected axis),
with isotropic azimuth: an approximation of the angular spread behind a scattering foil/applicator.
A divergent beam from a virtual point source is obtained with ``source_distance`` (cm): directions
then point away from the virtual source ``position - source_distance * direction``.
Energies: a line ``energy`` (MeV) with an optional Gaussian spread (FWHM, MeV), or a
:class:`~iortmc.sources.Spectrum`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .point import _direction, _position
from .spectrum import Spectrum

__all__ = ["ElectronBeam"]

# The numba sampler of beam particles lives in iortmc.transport._kernels.beam (sample_beam_particle), so that
# importing this module (and `import iortmc`) never imports numba.

_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


def _positive(name, value, allow_none=False, allow_zero=False):
    if value is None and allow_none:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise InputError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, got {x!r}")
    return x


class ElectronBeam:
    """A broad electron (or positron) beam.

    Parameters
    ----------
    energy : float or Spectrum
        Kinetic energy (MeV) of a monoenergetic beam, or a :class:`Spectrum` of kinetic energies.
    energy_spread : float, optional
        Full width at half maximum (MeV) of a Gaussian energy distribution around ``energy``
        (floats only); 0 = monoenergetic. Samples are truncated to [1 keV, 20 MeV].
    field_diameter : float, optional
        Diameter (cm) of a circular field at ``position``.
    field_size : (float, float), optional
        Side lengths (sx, sy) in cm of a rectangular field; give at most one of the two shapes.
        The x side lies along the beam frame's first axis (the global x axis for the default
        direction +z).
    position : (x, y, z), cm
        Centre of the field; the phantom may start further along the beam (vacuum in between).
    direction : (u, v, w)
        Beam axis (normalised here); default +z.
    angular_spread : float, optional
        Standard deviation (radians) of the Gaussian projected angle of each particle around the
        beam (or divergent) direction; 0 = no spread.
    source_distance : float, optional
        Distance (cm) from a virtual point source to the field plane: a divergent beam. ``None``
        (default) = parallel beam.
    particle : {"e-", "e+"}
    """

    kind = 2

    def __init__(self, energy, energy_spread=0.0, field_diameter=None, field_size=None,
                 position=(0.0, 0.0, 0.0), direction=(0.0, 0.0, 1.0), angular_spread=0.0,
                 source_distance=None, particle="e-") -> None:
        if particle not in ("e-", "e+"):
            raise InputError(f"particle must be 'e-' or 'e+', got {particle!r}")
        self.particle = particle
        self.energy_spread = _positive("energy_spread", energy_spread, allow_zero=True)
        if isinstance(energy, Spectrum):
            if self.energy_spread > 0:
                raise InputError("energy_spread applies to a single energy, not to a Spectrum; "
                                 f"got energy_spread={self.energy_spread}")
            self.spectrum = energy
        elif isinstance(energy, (int, float, np.floating)) and not isinstance(energy, bool):
            e = float(energy)
            if not math.isfinite(e) or not 1e-3 <= e <= 20.0:
                raise InputError(f"energy must be in [0.001, 20] MeV (kinetic), got {e!r}")
            if self.energy_spread > 0:
                sig = self.energy_spread * _FWHM_TO_SIGMA
                lo, hi = max(1e-3, e - 4 * sig), min(20.0, e + 4 * sig)
                edges = np.linspace(lo, hi, 161)
                mid = 0.5 * (edges[1:] + edges[:-1])
                wts = np.exp(-0.5 * ((mid - e) / sig) ** 2)
                self.spectrum = Spectrum(edges=edges, weights=wts,
                                         name=f"{e:g} MeV, FWHM {self.energy_spread:g} MeV")
            else:
                self.spectrum = Spectrum.mono(e)
        else:
            raise InputError(f"energy must be a kinetic energy in MeV or an iortmc.Spectrum, got {energy!r}")
        if field_diameter is not None and field_size is not None:
            raise InputError("give field_diameter or field_size, not both")
        self.field_diameter = _positive("field_diameter", field_diameter, allow_none=True)
        if field_size is not None:
            try:
                fs = np.asarray(field_size, dtype=float)
            except (TypeError, ValueError):
                raise InputError(f"field_size must be two side lengths (sx, sy) in cm, got {field_size!r}") from None
            if fs.shape != (2,) or not np.all(np.isfinite(fs)) or np.any(fs <= 0):
                raise InputError(f"field_size must be two positive side lengths (sx, sy) in cm, got {field_size!r}")
            self.field_size = (float(fs[0]), float(fs[1]))
        else:
            self.field_size = None
        self.position = _position(position)
        self.direction = _direction(direction)
        self.angular_spread = _positive("angular_spread", angular_spread, allow_zero=True)
        if self.angular_spread > 0.5:
            raise InputError(f"angular_spread must be <= 0.5 rad (Gaussian model), got {self.angular_spread}")
        self.source_distance = _positive("source_distance", source_distance, allow_none=True)

    @classmethod
    def from_commissioned(cls, path, **geometry) -> "ElectronBeam":
        """The beam of a commissioned electron source file (``iortmc commission electron``).

        The file gives the energy spectrum, the angular spread and, when it was fitted, the virtual
        source distance; ``geometry`` gives the rest (``field_diameter`` or ``field_size``,
        ``position``, ``direction``, ``particle``), as for the constructor. A keyword given here
        overrides the file's ``angular_spread`` or ``source_distance``.
        """
        from .commissioned import read_commissioned

        doc = read_commissioned(path)
        if doc["kind"] != "electron_beam":
            raise InputError(f"{doc['_path']!r} holds a commissioned {doc['kind']}, not an electron beam")
        for key in ("energy", "energy_spread"):
            if key in geometry:
                raise InputError(f"{key} comes from the commissioned file {doc['_path']!r}; do not pass it")
        beam = doc.get("beam", {})
        kw = {"angular_spread": beam.get("angular_spread_rad", 0.0)}
        if beam.get("source_distance_cm") is not None:
            kw["source_distance"] = beam["source_distance_cm"]
        kw.update(geometry)
        return cls(Spectrum.from_commissioned(path), **kw)

    # ------------------------------------------------------------------ packing helpers
    @property
    def charge(self) -> float:
        return -1.0 if self.particle == "e-" else 1.0

    @property
    def shape_code(self) -> int:
        """0 pencil, 1 circle, 2 rectangle."""
        if self.field_diameter is not None:
            return 1
        if self.field_size is not None:
            return 2
        return 0

    def shape_parameters(self) -> np.ndarray:
        """float64[6]: (shape code, a, b, angular_spread, source_distance or 0, charge); a = radius
        (circle) or half side x (rectangle), b = half side y."""
        a = b = 0.0
        if self.field_diameter is not None:
            a = 0.5 * self.field_diameter
        elif self.field_size is not None:
            a, b = 0.5 * self.field_size[0], 0.5 * self.field_size[1]
        return np.array([self.shape_code, a, b, self.angular_spread, self.source_distance or 0.0,
                         self.charge], dtype=np.float64)

    @property
    def e_lo(self):
        return self.spectrum.e_lo

    @property
    def e_hi(self):
        return self.spectrum.e_hi

    @property
    def alias_prob(self):
        return self.spectrum.alias_prob

    @property
    def alias_index(self):
        return self.spectrum.alias_index

    def describe(self) -> dict:
        return {
            "type": "ElectronBeam", "particle": self.particle,
            "position_cm": self.position.tolist(), "direction": self.direction.tolist(),
            "field_diameter_cm": self.field_diameter,
            "field_size_cm": list(self.field_size) if self.field_size else None,
            "angular_spread_rad": self.angular_spread, "source_distance_cm": self.source_distance,
            "energy_spread_fwhm_MeV": self.energy_spread, "spectrum": self.spectrum.describe(),
        }

    def __repr__(self) -> str:
        shape = (f"diameter {self.field_diameter:g} cm" if self.field_diameter is not None else
                 f"{self.field_size[0]:g} x {self.field_size[1]:g} cm" if self.field_size else "pencil")
        return (f"ElectronBeam({self.particle}, {self.spectrum!r}, {shape}, "
                f"position={tuple(self.position.tolist())} cm, direction={tuple(self.direction.tolist())})")
