"""IORT applicators and shielding discs painted into voxel phantoms.

Each applicator is a small geometric description (dimensions in cm, a position and an axis) that
paints its materials into an existing :class:`~iortmc.Phantom` and returns the matching
source:

* low-kV (50 kV X-ray) applicators: :class:`SphericalApplicator` (INTRABEAM-like),
  :class:`BalloonApplicator` (Xoft-like saline balloon), :class:`FlatApplicator` and
  :class:`NeedleApplicator` (generic parameterised shapes). ``paint(phantom)`` returns a
  :class:`~iortmc.sources.PointSource` at the correct place.
* IOERT (4-12 MeV electrons): :class:`IOERTApplicator` (PMMA cylinder, optionally bevelled) whose walls
  are voxelised so that electrons scatter in them; ``build(...)`` returns a water phantom with air above
  the surface and the applicator, plus the matching :class:`~iortmc.sources.ElectronBeam`.
* :class:`ShieldingDisc`: layered metal/plastic disc placed at a depth under the target.

Geometry conventions (all applicators)
--------------------------------------
Units cm; vectors ``(x, y, z)``; phantom arrays ``[z, y, x]``. For IOERT the water (tissue) surface is
the plane z = 0 and the tissue fills z > 0; the beam travels along +z (for a bevelled applicator the
beam is tilted by the bevel angle towards +x, see :class:`IOERTApplicator`). The low-kV applicators are
placed at any ``position`` with any axis ``direction``.

Sub-voxel accuracy
------------------
Shapes are painted as whole voxels (the transport knows no partial volumes). ``supersample=k``
evaluates each shape at k**3 points spread regularly over every voxel and gives the voxel the
material that covers most of them (a plurality vote; the phantom's existing material takes part in
the vote as "outside", and wins ties). ``k = 1`` is the voxel-centre rule of
:meth:`Phantom.paint_sphere`. The error this leaves on the painted volume of a thin shell is measured
in ``tests/unit/test_applicators.py`` and reported in ``docs/applicators.md``; as a rule, a wall must be
at least about one voxel thick to be represented, and a voxel of at most a third of the wall thickness
keeps the painted wall volume within a few per cent.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import InputError
from ..geometry import Phantom
from ..physics.materials import Material, material as _library_material
from ..geometry.painting import _mat, _number, _supersample, paint_labels  # noqa: F401

__all__ = [
    "paint_labels",
    "SphericalApplicator",
    "BalloonApplicator",
    "FlatApplicator",
    "NeedleApplicator",
    "IOERTApplicator",
    "ShieldingDisc",
    "SILICONE",
    "INTRABEAM_SPHERE_DIAMETERS_CM",
]

#: Diameters (cm) of the INTRABEAM spherical applicator set: 1.5 to 5.0 cm in 0.5 cm steps.
INTRABEAM_SPHERE_DIAMETERS_CM = tuple(round(1.5 + 0.5 * i, 1) for i in range(8))

#: Silicone elastomer (polydimethylsiloxane repeat unit C2H6OSi) for balloon walls. Density 1.03 g/cm3
#: is that of an unfilled cured PDMS elastomer (e.g. Sylgard 184); filled medical silicones reach
#: 1.1-1.2 g/cm3. An assumption, not manufacturer data for any balloon.
SILICONE = Material("silicone_pdms", density=1.03, formula="C2H6OSi",
                    description="polydimethylsiloxane elastomer (assumed balloon wall material)")


# ============================================================================ helpers
def _vec(name: str, value) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be 3 numbers (x, y, z), got {value!r}") from None
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise InputError(f"{name} must be 3 finite numbers (x, y, z), got {value!r}")
    return v


def _unit(name: str, value) -> np.ndarray:
    v = _vec(name, value)
    n = float(np.linalg.norm(v))
    if n == 0.0:
        raise InputError(f"{name} must not be the zero vector, got {tuple(v.tolist())}")
    return v / n


def _axial_radial(x, y, z, c: np.ndarray, a: np.ndarray):
    """Axial coordinate along unit axis ``a`` from ``c`` and the squared distance from the axis."""
    dx, dy, dz = x - c[0], y - c[1], z - c[2]
    w = dx * a[0] + dy * a[1] + dz * a[2]
    r2 = np.maximum(dx * dx + dy * dy + dz * dz - w * w, 0.0)
    return w, r2


def _sphere_bounds(c, r):
    return tuple((float(c[a] - r), float(c[a] + r)) for a in range(3))


def _segment_bounds(p0, p1, r):
    return tuple((float(min(p0[a], p1[a]) - r), float(max(p0[a], p1[a]) + r)) for a in range(3))


def _disc_bounds(c, a, r):
    """Bounding box of a disc of radius r centred on c with unit normal a."""
    return tuple((float(c[i] - r * math.sqrt(max(0.0, 1.0 - a[i] * a[i]))),
                  float(c[i] + r * math.sqrt(max(0.0, 1.0 - a[i] * a[i])))) for i in range(3))


def _union_bounds(*bs):
    return tuple((min(b[a][0] for b in bs), max(b[a][1] for b in bs)) for a in range(3))


# ============================================================================ low-kV applicators
class SphericalApplicator:
    """A spherical applicator around a point X-ray source (INTRABEAM-like).

    The applicator is a sphere of ``diameter_cm`` of ``material`` with a straight bore along the probe
    axis, from the centre out through the surface, holding the probe; the bore ends at the centre in
    a hemisphere of the probe radius (the probe tip), and the X-ray source (the tip's gold target) sits
    at the centre of the sphere. With ``wall_thickness_cm`` given the sphere
    is a shell of that thickness with an air (``interior_material``) core; by default it is solid.

    Parameters
    ----------
    diameter_cm : float
        Outer diameter, one of 1.5, 2.0, ..., 5.0 cm (the INTRABEAM set).
    material : Material or str
        Applicator material. Default ``polyetherimide`` (Ultem), the biocompatible plastic the
        INTRABEAM spherical applicators are made of.
    wall_thickness_cm : float or None
        None (default): a solid sphere around the probe bore. A number: a shell of that thickness
        (cm) around an ``interior_material`` core.
    probe_diameter_cm : float
        Diameter of the bore (the probe's outer diameter). Default 0.32 cm, the 3.2 mm INTRABEAM
        probe (Yanch and Harte, Med. Phys. 23 (1996) 1551, https://doi.org/10.1118/1.597885). 0 = no
        bore.
    probe_material : Material or str
        What fills the bore inside the probe tip (default ``air``, standing for the evacuated tip).
    drift_tube_material : Material or str
        Metal of the probe's drift tube (default ``stainless_steel``, an iron-nickel-chromium alloy
        standing for the tube's nickel-iron alloy; the exact alloy is not public).
    drift_tube_wall_cm : float
        Wall thickness of the drift tube (default 0.02 cm, an assumption: the manufacturer's drawings
        are not public). The tube runs along the bore from the back of the probe tip (one probe
        radius behind the source) outwards. A wall much thinner than a voxel cannot be painted, so the
        wall's mass is spread over the bore's cross-section (a homogenised rod of the same mass per
        unit length, density ``rho_metal * (1 - (1 - t/r)^2)``): photons that leave the tip backwards
        or sideways into the tube are absorbed as by the real wall instead of streaming along an air
        channel to the skin. 0 = no tube (an air bore, as a probe without its metal).
    interior_material : Material or str
        Core material of a shell applicator (default ``air``).
    position : (x, y, z), cm
        Centre of the sphere = source position.
    probe_direction : (u, v, w)
        Unit vector from the centre along the probe, out of the applicator towards the X-ray unit.
        Default (0, 0, -1): the probe comes in from the anterior (low z) side.
    probe_length_cm : float
        Length of the bore painted outside the sphere as well (e.g. through tissue to the surface);
        default 0 (the bore ends at the sphere surface).
    spectrum : Spectrum or str
        Source spectrum, a built-in name (default ``intrabeam_50kv_bare``) or a Spectrum.

    Notes
    -----
    Simplifications: a point source at the centre with the bare-probe spectrum (the spectrum is not
    hardened by a probe-tip coating; the applicator's own filtration is transported); isotropic
    emission from the tip (the drift tube's metal absorbs what is emitted backwards into it). Not
    modelled, a limit of the model: the flattening filters inside the small applicators of the set,
    which harden the beam along the probe axis and even out the surface dose of the anisotropic
    probe emission; with those applicators the model overestimates the dose distal to the tip on the
    probe axis. Their dimensions are not public; the measured depth doses of each applicator (e.g.
    Ebert and Carruthers, Med. Phys. 30 (2003) 2424, DOI 10.1118/1.1595611) are the data to
    commission against (docs/commissioning.md). The wall thickness and material are parameters
    because the manufacturer's drawings are not public.
    """

    def __init__(self, diameter_cm=4.0, material="polyetherimide", wall_thickness_cm=None, probe_diameter_cm=0.32,
                 probe_material="air", interior_material="air", position=(0.0, 0.0, 0.0),
                 probe_direction=(0.0, 0.0, -1.0), probe_length_cm=0.0, spectrum="intrabeam_50kv_bare",
                 drift_tube_material="stainless_steel", drift_tube_wall_cm=0.02):
        d = _number("diameter_cm", diameter_cm)
        if not any(abs(d - v) < 1e-9 for v in INTRABEAM_SPHERE_DIAMETERS_CM):
            raise InputError(f"diameter_cm must be one of {', '.join(f'{v:g}' for v in INTRABEAM_SPHERE_DIAMETERS_CM)}"
                             f" cm (1.5 to 5.0 in 0.5 cm steps), got {d:g}")
        self.diameter_cm = d
        self.material = _mat(material, "material")
        r = 0.5 * d
        self.wall_thickness_cm = _number("wall_thickness_cm", wall_thickness_cm, 0.0, r, lo_open=True,
                                         allow_none=True)
        self.probe_diameter_cm = _number("probe_diameter_cm", probe_diameter_cm, 0.0, 0.5 * d)
        self.probe_material = _mat(probe_material, "probe_material")
        self.interior_material = _mat(interior_material, "interior_material")
        self.position = _vec("position", position)
        self.probe_direction = _unit("probe_direction", probe_direction)
        self.probe_length_cm = _number("probe_length_cm", probe_length_cm, 0.0)
        self.spectrum = spectrum
        rp = 0.5 * self.probe_diameter_cm
        # without a bore (probe_diameter_cm = 0) there is no tube to paint
        self.drift_tube_wall_cm = _number("drift_tube_wall_cm", drift_tube_wall_cm, 0.0, rp) if rp > 0 else 0.0
        metal = _mat(drift_tube_material, "drift_tube_material")
        self.drift_tube_metal = metal
        if self.drift_tube_wall_cm > 0 and rp > 0:
            frac = 1.0 - (1.0 - self.drift_tube_wall_cm / rp) ** 2
            self.drift_tube_material = Material(
                f"{metal.name}_drift_tube", density=metal.density * frac,
                composition=dict(metal.composition),
                description=f"{metal.name} drift tube, {self.drift_tube_wall_cm * 10:g} mm wall of a "
                            f"{self.probe_diameter_cm * 10:g} mm probe, homogenised over the bore")
        else:
            self.drift_tube_material = None

    @property
    def radius_cm(self) -> float:
        return 0.5 * self.diameter_cm

    def _label(self, x, y, z):
        c, a = self.position, self.probe_direction
        R = self.radius_cm
        dx, dy, dz = x - c[0], y - c[1], z - c[2]
        r2 = dx * dx + dy * dy + dz * dz
        lab = np.where(r2 <= R * R, 1, 0)
        if self.wall_thickness_cm is not None and self.wall_thickness_cm < R:
            ri = R - self.wall_thickness_cm
            lab = np.where(r2 < ri * ri, 3, lab)
        if self.probe_diameter_cm > 0:
            w, q2 = _axial_radial(x, y, z, c, a)
            rp = 0.5 * self.probe_diameter_cm
            # the bore ends in a hemisphere of the probe radius around the source (the probe tip)
            bore = (q2 <= rp * rp) & (w >= 0.0) & (w <= R + self.probe_length_cm) | (q2 + w * w <= rp * rp)
            lab = np.where(bore, 2, lab)
            if self.drift_tube_material is not None:
                # the metal drift tube: the bore from one probe radius behind the source outwards
                tube = (q2 <= rp * rp) & (w >= rp) & (w <= R + self.probe_length_cm)
                lab = np.where(tube, 4, lab)
        return lab

    def bounds(self):
        R = self.radius_cm
        b = _sphere_bounds(self.position, R)
        if self.probe_length_cm > 0 and self.probe_diameter_cm > 0:
            tip = self.position + (R + self.probe_length_cm) * self.probe_direction
            b = _union_bounds(b, _segment_bounds(self.position, tip, 0.5 * self.probe_diameter_cm))
        return b

    def source(self):
        """The point source at the centre of the sphere."""
        from ..sources import PointSource, Spectrum

        sp = Spectrum.builtin(self.spectrum) if isinstance(self.spectrum, str) else self.spectrum
        return PointSource(sp, position=tuple(self.position.tolist()))

    def paint(self, phantom: Phantom, supersample: int = 1):
        """Paint the applicator into ``phantom`` (in place) and return its :class:`PointSource`."""
        mats = [self.material, self.probe_material, self.interior_material]
        if self.drift_tube_material is not None:
            mats.append(self.drift_tube_material)
        paint_labels(phantom, self._label, mats, self.bounds(), supersample)
        return self.source()

    def describe(self) -> dict:
        return {"type": "SphericalApplicator", "diameter_cm": self.diameter_cm, "material": self.material.name,
                "wall_thickness_cm": self.wall_thickness_cm, "probe_diameter_cm": self.probe_diameter_cm,
                "position_cm": self.position.tolist(), "probe_direction": self.probe_direction.tolist(),
                "drift_tube_material": self.drift_tube_metal.name, "drift_tube_wall_cm": self.drift_tube_wall_cm}


class BalloonApplicator:
    """A saline-filled balloon around a miniature X-ray source (Xoft Axxent-like).

    A spherical balloon of outer ``diameter_cm`` (3 to 6 cm), a thin wall of ``wall_material``, filled
    with ``fill_material`` (saline); the source sits at the centre in a catheter of
    ``catheter_diameter_cm`` (filled with cooling water) running from the centre along ``direction``.

    Parameters
    ----------
    diameter_cm : float
        Outer balloon diameter, 3 to 6 cm (the Xoft breast balloon range).
    wall_thickness_cm : float
        Balloon wall thickness (default 0.05 cm, an assumption). Walls thinner than about half a
        voxel vanish under the majority rule.
    wall_material, fill_material, catheter_material : Material or str
        Defaults: :data:`SILICONE`, ``saline``, ``water``.
    catheter_diameter_cm : float
        Outer diameter of the source catheter (default 0.54 cm, assumed); 0 = not painted.
    position : (x, y, z), cm
        Centre of the balloon = source position.
    direction : (u, v, w)
        Unit vector along the catheter from the centre out of the balloon (default (0, 0, -1)).
    catheter_length_cm : float
        Catheter length painted beyond the balloon surface (default 0).
    spectrum : Spectrum or str
        Default ``xoft_axxent_50kv``.

    Notes
    -----
    A point source with the spectrum ``xoft_axxent_50kv_commissioned``, commissioned to the
    published radial dose function of the S700 source (Hiatt, Davis and Rivard, Med. Phys. 42 (2015)
    2764, DOI 10.1118/1.4919280) on its transverse axis. Not modelled, a limit of the model: the
    source's anode (a ~1 mm spot at the tip of a 2.25 mm diameter source), its cooling water, insert
    and catheter, which make the real dose distribution anisotropic (lower towards the cable side and
    off the distal tip; the F(r, theta) tables of Rivard et al., Med. Phys. 33 (2006) 4020 and Hiatt
    et al. 2015); the model is isotropic, so off the transverse plane it is only as good as F = 1.
    """

    def __init__(self, diameter_cm=4.0, wall_thickness_cm=0.05, wall_material=SILICONE, fill_material="saline",
                 catheter_diameter_cm=0.54, catheter_material="water", position=(0.0, 0.0, 0.0),
                 direction=(0.0, 0.0, -1.0), catheter_length_cm=0.0, spectrum="xoft_axxent_50kv_commissioned"):
        self.diameter_cm = _number("diameter_cm", diameter_cm, 3.0, 6.0)
        R = 0.5 * self.diameter_cm
        self.wall_thickness_cm = _number("wall_thickness_cm", wall_thickness_cm, 0.0, 0.5 * R)
        self.wall_material = _mat(wall_material, "wall_material")
        self.fill_material = _mat(fill_material, "fill_material")
        self.catheter_diameter_cm = _number("catheter_diameter_cm", catheter_diameter_cm, 0.0, R)
        self.catheter_material = _mat(catheter_material, "catheter_material")
        self.position = _vec("position", position)
        self.direction = _unit("direction", direction)
        self.catheter_length_cm = _number("catheter_length_cm", catheter_length_cm, 0.0)
        self.spectrum = spectrum

    @property
    def radius_cm(self) -> float:
        return 0.5 * self.diameter_cm

    def _label(self, x, y, z):
        c = self.position
        R = self.radius_cm
        ri = R - self.wall_thickness_cm
        dx, dy, dz = x - c[0], y - c[1], z - c[2]
        r2 = dx * dx + dy * dy + dz * dz
        lab = np.where(r2 <= R * R, np.where(r2 < ri * ri, 2, 1), 0)
        if self.catheter_diameter_cm > 0:
            w, q2 = _axial_radial(x, y, z, c, self.direction)
            rc = 0.5 * self.catheter_diameter_cm
            cat = (q2 <= rc * rc) & (w >= -rc) & (w <= R + self.catheter_length_cm)
            lab = np.where(cat, 3, lab)
        return lab

    def bounds(self):
        R = self.radius_cm
        b = _sphere_bounds(self.position, R)
        if self.catheter_length_cm > 0 and self.catheter_diameter_cm > 0:
            tip = self.position + (R + self.catheter_length_cm) * self.direction
            b = _union_bounds(b, _segment_bounds(self.position, tip, 0.5 * self.catheter_diameter_cm))
        return b

    def source(self):
        from ..sources import PointSource, Spectrum

        sp = Spectrum.builtin(self.spectrum) if isinstance(self.spectrum, str) else self.spectrum
        return PointSource(sp, position=tuple(self.position.tolist()))

    def paint(self, phantom: Phantom, supersample: int = 1):
        """Paint wall, saline and catheter into ``phantom``; return the :class:`PointSource`."""
        paint_labels(phantom, self._label, [self.wall_material, self.fill_material, self.catheter_material],
                     self.bounds(), supersample)
        return self.source()


class FlatApplicator:
    """A flat (surface) applicator: a cylindrical cup whose flat face lies on the tissue.

    The applicator is a cylinder of ``diameter_cm`` whose face (a plate of ``face_thickness_cm``)
    touches the tissue at ``position``; the source sits on the axis ``source_to_face_cm`` above the
    inner side of the face, inside an air cavity bounded by side walls of ``wall_thickness_cm`` and
    closed at the top by a plate of the same thickness as the face.

    Parameters
    ----------
    diameter_cm : float
        Outer diameter (0.5 to 10 cm).
    face_thickness_cm, wall_thickness_cm : float
        Plate and side-wall thickness (defaults 0.1 cm, assumed).
    source_to_face_cm : float
        Distance from the source to the inner side of the face plate (default 1.0 cm).
    material : Material or str
        Default ``polyetherimide``.
    position : (x, y, z), cm
        Centre of the outer face (on the tissue surface).
    direction : (u, v, w)
        Unit normal of the face pointing into the tissue (default +z).
    spectrum : Spectrum or str
        Default ``intrabeam_50kv_bare``.
    """

    def __init__(self, diameter_cm=3.0, face_thickness_cm=0.1, wall_thickness_cm=0.1, source_to_face_cm=1.0,
                 material="polyetherimide", position=(0.0, 0.0, 0.0), direction=(0.0, 0.0, 1.0),
                 spectrum="intrabeam_50kv_bare"):
        self.diameter_cm = _number("diameter_cm", diameter_cm, 0.5, 10.0)
        self.face_thickness_cm = _number("face_thickness_cm", face_thickness_cm, 0.0, 2.0)
        self.wall_thickness_cm = _number("wall_thickness_cm", wall_thickness_cm, 0.0, 0.5 * self.diameter_cm,
                                         lo_open=True)
        self.source_to_face_cm = _number("source_to_face_cm", source_to_face_cm, 0.0, 20.0, lo_open=True)
        self.material = _mat(material, "material")
        self.position = _vec("position", position)
        self.direction = _unit("direction", direction)
        self.spectrum = spectrum

    @property
    def height_cm(self) -> float:
        """Outer height: face + source gap + a source-gap-high cavity above the source + top plate."""
        return 2.0 * self.face_thickness_cm + 2.0 * self.source_to_face_cm

    @property
    def source_position(self) -> np.ndarray:
        return self.position - (self.face_thickness_cm + self.source_to_face_cm) * self.direction

    def _label(self, x, y, z):
        # axial coordinate h measured from the outer face back up into the applicator (h >= 0)
        w, q2 = _axial_radial(x, y, z, self.position, self.direction)
        h = -w
        R = 0.5 * self.diameter_cm
        ri = R - self.wall_thickness_cm
        t = self.face_thickness_cm
        H = self.height_cm
        body = (q2 <= R * R) & (h >= 0.0) & (h <= H)
        cavity = (q2 < ri * ri) & (h > t) & (h < H - t)
        return np.where(cavity, 2, np.where(body, 1, 0))

    def bounds(self):
        top = self.position - self.height_cm * self.direction
        return _segment_bounds(self.position, top, 0.5 * self.diameter_cm)

    def source(self):
        from ..sources import PointSource, Spectrum

        sp = Spectrum.builtin(self.spectrum) if isinstance(self.spectrum, str) else self.spectrum
        return PointSource(sp, position=tuple(self.source_position.tolist()))

    def paint(self, phantom: Phantom, supersample: int = 1):
        """Paint the cup (material) and its air cavity; return the :class:`PointSource`."""
        paint_labels(phantom, self._label, [self.material, "air"], self.bounds(), supersample)
        return self.source()


class NeedleApplicator:
    """A needle applicator: a closed tube with a hemispherical tip, the source at the tip centre.

    Parameters
    ----------
    outer_diameter_cm : float
        Needle outer diameter (0.1 to 2 cm; default 0.44 cm, assumed).
    wall_thickness_cm : float
        Wall thickness (default 0.06 cm, assumed); the bore is air.
    length_cm : float
        Shaft length from the tip centre along ``direction`` (default 5 cm).
    material : Material or str
        Default ``polyetherimide``.
    position : (x, y, z), cm
        Centre of the hemispherical tip = source position.
    direction : (u, v, w)
        Unit vector from the tip along the shaft (out of the tissue). Default (0, 0, -1).
    spectrum : Spectrum or str
        Default ``intrabeam_50kv_bare``.
    """

    def __init__(self, outer_diameter_cm=0.44, wall_thickness_cm=0.06, length_cm=5.0, material="polyetherimide",
                 position=(0.0, 0.0, 0.0), direction=(0.0, 0.0, -1.0), spectrum="intrabeam_50kv_bare"):
        self.outer_diameter_cm = _number("outer_diameter_cm", outer_diameter_cm, 0.1, 2.0)
        self.wall_thickness_cm = _number("wall_thickness_cm", wall_thickness_cm, 0.0, 0.5 * self.outer_diameter_cm,
                                         lo_open=True)
        self.length_cm = _number("length_cm", length_cm, 0.0, 100.0, lo_open=True)
        self.material = _mat(material, "material")
        self.position = _vec("position", position)
        self.direction = _unit("direction", direction)
        self.spectrum = spectrum

    def _label(self, x, y, z):
        c = self.position
        R = 0.5 * self.outer_diameter_cm
        ri = R - self.wall_thickness_cm
        w, q2 = _axial_radial(x, y, z, c, self.direction)
        r2 = q2 + w * w
        shaft = (w >= 0.0) & (w <= self.length_cm)
        outer = (shaft & (q2 <= R * R)) | ((w < 0.0) & (r2 <= R * R))
        inner = (shaft & (q2 < ri * ri)) | ((w < 0.0) & (r2 < ri * ri))
        return np.where(inner, 2, np.where(outer, 1, 0))

    def bounds(self):
        R = 0.5 * self.outer_diameter_cm
        end = self.position + self.length_cm * self.direction
        return _segment_bounds(self.position, end, R)

    def source(self):
        from ..sources import PointSource, Spectrum

        sp = Spectrum.builtin(self.spectrum) if isinstance(self.spectrum, str) else self.spectrum
        return PointSource(sp, position=tuple(self.position.tolist()))

    def paint(self, phantom: Phantom, supersample: int = 1):
        """Paint the needle wall and its air bore; return the :class:`PointSource`."""
        paint_labels(phantom, self._label, [self.material, "air"], self.bounds(), supersample)
        return self.source()


# ============================================================================ IOERT
_BEVELS = (0.0, 15.0, 30.0, 45.0)


class IOERTApplicator:
    """A PMMA IOERT applicator (hollow cylinder, flat or bevelled end) standing on the tissue surface.

    Geometry: the tissue surface is the plane z = 0, tissue at z > 0, air above. The applicator axis
    ``a = (sin(bevel), 0, cos(bevel))`` lies in the x-z plane and points into the tissue; its
    lower (patient) end is cut by the plane z = 0, so that a bevelled end lies flush on the surface.
    The axis meets the surface at ``(x, y, 0)`` = ``center_xy``. The wall is the set of points whose
    distance from the axis lies in [inner radius, inner radius + wall thickness], between the surface
    and the top plane perpendicular to the axis at ``length_cm`` above the surface along the axis.
    For ``bevel_deg = 0`` this is a straight cylinder from z = -length_cm to 0 around the z axis, and
    the beam runs along +z.

    The beam (:meth:`beam`) starts on a disc of the inner diameter, perpendicular to the axis and
    centred on it, ``beam_gap_cm`` above the top of the applicator, and travels along the axis.

    Parameters
    ----------
    inner_diameter_cm : float
        3 to 10 cm (the field size).
    wall_thickness_cm : float
        PMMA wall thickness (default 0.5 cm, typical of hard-docking PMMA applicators; a parameter).
    length_cm : float
        Applicator length along its axis from the surface (centre of the end face) to the top (default
        10 cm; clinical applicators are longer, but only the part near the field matters for wall
        scatter once the beam is parallel).
    bevel_deg : {0, 15, 30, 45}
        Bevel angle: the angle between the end face and the plane perpendicular to the axis.
    material : Material or str
        Default ``pmma``.
    center_xy : (x, y), cm
        Where the applicator axis meets the surface.
    """

    def __init__(self, inner_diameter_cm=6.0, wall_thickness_cm=0.5, length_cm=10.0, bevel_deg=0, material="pmma",
                 center_xy=(0.0, 0.0)):
        self.inner_diameter_cm = _number("inner_diameter_cm", inner_diameter_cm, 3.0, 10.0)
        self.wall_thickness_cm = _number("wall_thickness_cm", wall_thickness_cm, 0.0, 3.0, lo_open=True)
        self.length_cm = _number("length_cm", length_cm, 0.0, 200.0, lo_open=True)
        b = _number("bevel_deg", bevel_deg)
        if not any(abs(b - v) < 1e-9 for v in _BEVELS):
            raise InputError(f"bevel_deg must be one of 0, 15, 30, 45 degrees, got {b:g}")
        self.bevel_deg = b
        self.material = _mat(material, "material")
        try:
            cxy = np.asarray(center_xy, dtype=np.float64)
        except (TypeError, ValueError):
            cxy = np.array([np.nan])
        if cxy.shape != (2,) or not np.all(np.isfinite(cxy)):
            raise InputError(f"center_xy must be 2 finite numbers (x, y) in cm, got {center_xy!r}")
        self.center_xy = cxy

    # ---------------------------------------------------------------- geometry
    @property
    def axis(self) -> np.ndarray:
        t = math.radians(self.bevel_deg)
        return np.array([math.sin(t), 0.0, math.cos(t)])

    @property
    def surface_point(self) -> np.ndarray:
        return np.array([self.center_xy[0], self.center_xy[1], 0.0])

    @property
    def outer_radius_cm(self) -> float:
        return 0.5 * self.inner_diameter_cm + self.wall_thickness_cm

    def _label(self, x, y, z):
        w, q2 = _axial_radial(x, y, z, self.surface_point, self.axis)
        ri = 0.5 * self.inner_diameter_cm
        ro = self.outer_radius_cm
        wall = (q2 >= ri * ri) & (q2 <= ro * ro) & (w >= -self.length_cm) & (z <= 0.0)
        return np.where(wall, 1, 0)

    def bounds(self, gap_cm: float = 0.0):
        a = self.axis
        ro = self.outer_radius_cm
        top = self.surface_point - (self.length_cm + gap_cm) * a
        # the lower end reaches the surface up to ro / cos(bevel) from the axis along x
        t = math.radians(self.bevel_deg)
        reach = ro / math.cos(t)
        lower = (np.array([self.center_xy[0] - reach, self.center_xy[1] - ro, 0.0]),
                 np.array([self.center_xy[0] + reach, self.center_xy[1] + ro, 0.0]))
        b_top = _disc_bounds(top, a, ro)
        return _union_bounds(b_top, tuple((float(lower[0][i]), float(lower[1][i])) for i in range(3)))

    def paint(self, phantom: Phantom, supersample: int = 1) -> dict:
        """Paint the applicator wall into ``phantom`` (which must hold air above z = 0)."""
        return paint_labels(phantom, self._label, [self.material], self.bounds(), supersample)

    def beam(self, energy, beam_gap_cm: float = 0.5, angular_spread: float = 0.03, energy_spread: float = 0.0,
             source_distance_cm=None):
        """The matching :class:`~iortmc.sources.ElectronBeam`.

        Parameters
        ----------
        energy : float or Spectrum
            Kinetic energy (MeV) or spectrum.
        beam_gap_cm : float
            Distance along the axis from the top of the applicator to the beam's start plane.
        angular_spread : float
            Gaussian projected angular spread (rad) of the beam at the applicator entrance. The default
            0.03 rad is a generic assumption for a scattering-foil IOERT head (not machine data); it is
            what sends some electrons into the walls.
        energy_spread : float
            FWHM (MeV) of a Gaussian energy spread.
        source_distance_cm : float, optional
            Virtual source distance (cm) above the start plane for a divergent beam.
        """
        from ..sources import ElectronBeam

        g = _number("beam_gap_cm", beam_gap_cm, 0.0)
        start = self.surface_point - (self.length_cm + g) * self.axis
        return ElectronBeam(energy, energy_spread=energy_spread, field_diameter=self.inner_diameter_cm,
                            position=tuple(start.tolist()), direction=tuple(self.axis.tolist()),
                            angular_spread=angular_spread, source_distance=source_distance_cm)

    def build(self, energy, *, depth_cm: float = 8.0, lateral_cm: float = 16.0, voxel_size_cm=0.2,
              tissue="water", air_margin_cm: float = 1.0, supersample: int = 3, beam_gap_cm: float = 0.5,
              angular_spread: float = 0.03, energy_spread: float = 0.0, source_distance_cm=None):
        """A phantom of tissue (z in [0, depth_cm]) with air above holding the applicator, and the beam.

        Parameters
        ----------
        energy : float or Spectrum
            Beam kinetic energy (MeV).
        depth_cm : float
            Tissue thickness below the surface (whole number of voxels in z).
        lateral_cm : float
            Tissue extent in x and y (centred on ``center_xy``); the air region is widened if the
            applicator needs more room.
        voxel_size_cm : float or (dx, dy, dz)
            Voxel size; z = 0 always falls on a voxel boundary.
        tissue : Material or str
            Default ``water``.
        air_margin_cm : float
            Air above the top of the applicator (the beam starts within it).
        supersample : int
            Sub-voxel points per axis for painting the walls.
        beam_gap_cm, angular_spread, energy_spread, source_distance_cm
            Passed to :meth:`beam`.

        Returns
        -------
        (Phantom, ElectronBeam)
        """
        vs = np.broadcast_to(np.asarray(voxel_size_cm, dtype=np.float64), (3,)).copy()
        if not np.all(np.isfinite(vs)) or np.any(vs <= 0):
            raise InputError(f"voxel_size_cm must be > 0 cm, got {voxel_size_cm!r}")
        depth = _number("depth_cm", depth_cm, 0.0, lo_open=True)
        lat = _number("lateral_cm", lateral_cm, 0.0, lo_open=True)
        margin = _number("air_margin_cm", air_margin_cm, 0.0)
        g = _number("beam_gap_cm", beam_gap_cm, 0.0)
        if margin < g:
            margin = g + 0.5 * vs[2]
        b = self.bounds(gap_cm=margin)
        cx, cy = self.center_xy
        xlo = min(cx - 0.5 * lat, b[0][0] - vs[0])
        xhi = max(cx + 0.5 * lat, b[0][1] + vs[0])
        ylo = min(cy - 0.5 * lat, b[1][0] - vs[1])
        yhi = max(cy + 0.5 * lat, b[1][1] + vs[1])
        ztop = b[2][0]
        nz_air = int(math.ceil(-ztop / vs[2] - 1e-9))
        nz_t = int(round(depth / vs[2]))
        if nz_t < 1 or abs(nz_t * vs[2] - depth) > 1e-6:
            raise InputError(f"depth_cm = {depth:g} must be a whole number of {vs[2]:g} cm voxels")
        # keep the tissue centred on the axis: symmetric extents about center_xy
        hx = max(cx - xlo, xhi - cx)
        hy = max(cy - ylo, yhi - cy)
        nx = 2 * int(math.ceil(hx / vs[0] - 1e-9))
        ny = 2 * int(math.ceil(hy / vs[1] - 1e-9))
        origin = (cx - 0.5 * nx * vs[0], cy - 0.5 * ny * vs[1], -nz_air * vs[2])
        tissue_m = _mat(tissue, "tissue")
        index = np.zeros((nz_air + nz_t, ny, nx), dtype=np.int32)
        index[:nz_air] = 1
        ph = Phantom([tissue_m, _library_material("air")], index, voxel_size=tuple(vs), origin=origin)
        self.paint(ph, supersample=supersample)
        return ph, self.beam(energy, beam_gap_cm=g, angular_spread=angular_spread, energy_spread=energy_spread,
                             source_distance_cm=source_distance_cm)

    def describe(self) -> dict:
        return {"type": "IOERTApplicator", "inner_diameter_cm": self.inner_diameter_cm,
                "wall_thickness_cm": self.wall_thickness_cm, "length_cm": self.length_cm,
                "bevel_deg": self.bevel_deg, "material": self.material.name,
                "center_xy_cm": self.center_xy.tolist()}


# ============================================================================ shielding disc
class ShieldingDisc:
    """A layered shielding disc lying flat (normal along z) at a depth under the target.

    Parameters
    ----------
    layers : sequence of (material, thickness_cm)
        Layers from the beam side (shallowest) down, e.g. ``[("aluminium", 0.2), ("lead", 0.4)]``:
        a low-Z layer facing the beam absorbs part of the electrons backscattered by the lead.
    diameter_cm : float
        Disc diameter (0.5 to 20 cm).
    depth_cm : float
        Depth (z, cm) of the beam-side face; the disc occupies z in [depth_cm, depth_cm + total].
    center_xy : (x, y), cm
        Disc axis position.

    Notes
    -----
    Whole-voxel painting: every layer should be a whole number of voxels thick and ``depth_cm`` should
    fall on a voxel boundary; :meth:`paint` warns otherwise (the layer is then what the plurality vote
    makes of it).
    """

    def __init__(self, layers=(("lead", 0.3), ("aluminium", 0.2)), diameter_cm=8.0, depth_cm=2.0,
                 center_xy=(0.0, 0.0)):
        try:
            items = list(layers)
        except TypeError:
            raise InputError(f"layers must be a list of (material, thickness_cm) pairs, got {layers!r}") from None
        if not items:
            raise InputError("layers must hold at least one (material, thickness_cm) pair, got []")
        self.layers = []
        for i, item in enumerate(items):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise InputError(f"layers[{i}] must be a (material, thickness_cm) pair, got {item!r}")
            m = _mat(item[0], f"layers[{i}] material")
            t = _number(f"layers[{i}] thickness_cm", item[1], 0.0, 10.0, lo_open=True)
            self.layers.append((m, t))
        self.diameter_cm = _number("diameter_cm", diameter_cm, 0.5, 20.0)
        self.depth_cm = _number("depth_cm", depth_cm, 0.0)
        try:
            cxy = np.asarray(center_xy, dtype=np.float64)
        except (TypeError, ValueError):
            cxy = np.array([np.nan])
        if cxy.shape != (2,) or not np.all(np.isfinite(cxy)):
            raise InputError(f"center_xy must be 2 finite numbers (x, y) in cm, got {center_xy!r}")
        self.center_xy = cxy

    @property
    def thickness_cm(self) -> float:
        return float(sum(t for _, t in self.layers))

    def boundaries_cm(self) -> list[float]:
        """z of each layer boundary, from the beam-side face down (len(layers) + 1 values)."""
        z = [self.depth_cm]
        for _, t in self.layers:
            z.append(z[-1] + t)
        return z

    def _label(self, x, y, z):
        r = 0.5 * self.diameter_cm
        dx, dy = x - self.center_xy[0], y - self.center_xy[1]
        inside = dx * dx + dy * dy <= r * r
        zb = self.boundaries_cm()
        lab = np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(z)), dtype=np.int64)
        for i in range(len(self.layers)):
            lab = np.where(inside & (z >= zb[i]) & (z < zb[i + 1]), i + 1, lab)
        return lab

    def bounds(self):
        r = 0.5 * self.diameter_cm
        cx, cy = self.center_xy
        return ((cx - r, cx + r), (cy - r, cy + r), (self.depth_cm, self.depth_cm + self.thickness_cm))

    def paint(self, phantom: Phantom, supersample: int = 3) -> dict:
        """Paint the disc into ``phantom`` (in place); returns voxels painted per material."""
        dz, z0 = phantom.voxel_size[2], phantom.origin[2]
        off = [zb for zb in self.boundaries_cm() if abs((zb - z0) / dz - round((zb - z0) / dz)) > 1e-6]
        if off:
            warnings.warn(f"shielding disc layer boundaries {off} cm do not fall on {dz:g} cm voxel boundaries; "
                          "the layers are rounded to whole voxels", stacklevel=2)
        return paint_labels(phantom, self._label, [m for m, _ in self.layers], self.bounds(), supersample)

    def describe(self) -> dict:
        return {"type": "ShieldingDisc", "layers": [[m.name, t] for m, t in self.layers],
                "diameter_cm": self.diameter_cm, "depth_cm": self.depth_cm, "center_xy_cm": self.center_xy.tolist()}
