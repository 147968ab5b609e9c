"""TOML case files: a whole simulation (phantom, materials, source, histories, seed, options) in one file.

The format is documented key by key in ``docs/case-format.md``. In short::

    title = "INTRABEAM-like 50 kV source in breast tissue"
    histories = 2_000_000
    seed = 1

    [phantom]
    type = "box"                       # "box" or "slabs"
    size_cm = [10.0, 10.0, 10.0]       # (x, y, z) extent; or shape = [nz, ny, nx] voxels
    voxel_size_cm = 0.1
    material = "breast_50_50"

    [[phantom.paint]]                  # applied in order; voxel-centre rule
    shape = "sphere"
    center_cm = [0.0, 0.0, 0.0]
    radius_cm = 1.0
    material = "saline"

    [source]
    type = "point"                     # "point", "pencil_beam" or "electron_beam"
    position_cm = [0.0, 0.0, 0.0]
    spectrum = { builtin = "intrabeam_50kv_bare" }

    [options]
    scoring = "kerma"

:func:`load_case` reads a file, :func:`loads_case` a string; both return a :class:`Case` whose
:meth:`Case.run` calls :func:`iortmc.simulate`. Every field is checked when the case is read: a bad
field raises :class:`~iortmc.errors.InputError` naming the key (e.g. ``[source] position_cm``), the
bad value and what was expected. Unknown keys are errors too (a typo must not be silently ignored).

Relative file paths (spectrum files) are taken relative to the directory of the case file.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import InputError

__all__ = ["Case", "load_case", "loads_case", "case_from_dict", "CASE_FORMAT", "BUNDLED_CASES",
           "bundled_case", "bundled_case_text"]

#: Version of the case format read here (the optional top-level key ``case_format``).
CASE_FORMAT = 1

_TOP_KEYS = {"case_format", "title", "description", "histories", "seed", "phantom", "materials",
             "source", "options", "output", "applicator", "shielding", "calibration", "prescription"}
_PHANTOM_TYPES = ("box", "slabs", "breast", "ct", "ioert")
_BREAST_KEYS = {"type", "voxel_size_cm", "size_cm", "skin_cm", "breast_cm", "gland_fraction", "chest_wall_cm",
                "rib_diameter_cm", "rib_y_cm", "lung_cm", "air_above_cm", "cavity", "cavity_depth_cm",
                "cavity_radius_cm", "supersample", "paint"}
_CT_KEYS = {"type", "ct", "voxel_size_cm", "rtstruct", "structures", "paint"}
_IOERT_PHANTOM_KEYS = {"type", "depth_cm", "lateral_cm", "voxel_size_cm", "material", "air_margin_cm",
                       "supersample", "paint"}
#: [applicator] kind -> its class in iortmc.clinical.applicators and the keys it takes.
APPLICATOR_KINDS = {
    "spherical": ("SphericalApplicator", {"diameter_cm", "material", "wall_thickness_cm", "probe_diameter_cm",
                                          "probe_material", "interior_material", "position_cm",
                                          "probe_direction", "probe_length_cm"}),
    "balloon": ("BalloonApplicator", {"diameter_cm", "wall_thickness_cm", "wall_material", "fill_material",
                                      "catheter_diameter_cm", "catheter_material", "position_cm", "direction",
                                      "catheter_length_cm"}),
    "flat": ("FlatApplicator", {"diameter_cm", "face_thickness_cm", "wall_thickness_cm", "source_to_face_cm",
                                "material", "position_cm", "direction"}),
    "needle": ("NeedleApplicator", {"outer_diameter_cm", "wall_thickness_cm", "length_cm", "material",
                                    "position_cm", "direction"}),
    "ioert": ("IOERTApplicator", {"inner_diameter_cm", "wall_thickness_cm", "length_cm", "bevel_deg", "material",
                                  "center_xy_cm"}),
}
_APPLICATOR_COMMON = {"kind", "supersample"}
_SHIELD_KEYS = {"layers", "diameter_cm", "depth_cm", "center_xy_cm", "supersample"}
_CALIBRATION_TYPES = {
    "monitor_units": {"type", "Gy_per_MU", "reference_depth_cm", "energy_MeV", "applicator", "reference_result"},
    "dose_rate": {"type", "Gy_per_min", "point_cm", "offset_cm", "reference_result"},
    "air_kerma_strength": {"type", "air_kerma_strength_U", "dose_rate_constant_cGy_per_h_per_U", "transverse",
                           "reference_result"},
}
_PRESCRIPTION_KEYS = {"dose_Gy", "at", "depth_cm", "isodose_percent", "radius_cm", "center_cm", "point_cm"}
_PHANTOM_KEYS = {"type", "size_cm", "shape", "voxel_size_cm", "material", "origin_cm", "paint",
                 "axis", "lateral_cm", "layers"}
_PAINT_KEYS = {"sphere": {"shape", "material", "density", "center_cm", "radius_cm"},
               "cylinder": {"shape", "material", "density", "center_cm", "radius_cm", "length_cm", "axis"},
               "box": {"shape", "material", "density", "lower_cm", "upper_cm"}}
_MATERIAL_KEYS = {"density", "composition", "formula", "I_eV", "base", "description"}
_SOURCE_TYPES = ("point", "pencil_beam", "electron_beam", "phase_space")
_RESERVED_SOURCE_TYPES = ()
_BEAM_KEYS = {"type", "position_cm", "direction", "energy_MeV", "spectrum", "energy_spread_fwhm_MeV",
              "field_diameter_cm", "field_size_cm", "angular_spread_rad", "source_distance_cm",
              "particle"}
_PHSP_KEYS = {"type", "file", "translate_cm", "recycle", "skip_unsupported"}
_SPECTRUM_FORMS = ("energy_MeV", "energy_keV", "builtin", "file", "lines", "histogram")
#: TOML key in [options] -> keyword of :func:`iortmc.simulate`.
OPTION_KEYS = {"threads": "threads", "batches": "batches", "scoring": "scoring",
               "photon_cutoff_MeV": "photon_cutoff", "electrons": "electrons",
               "electron_cutoff_MeV": "ecut", "delta_threshold_MeV": "ae",
               "brems_threshold_MeV": "ap", "max_energy_loss_fraction": "estepe"}
_OUTPUT_KEYS = {"file", "reference_point_cm"}


# ---------------------------------------------------------------------------------------- TOML
def _toml():
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise InputError("reading TOML case files on Python 3.10 needs the 'tomli' package "
                             "(python -m pip install tomli)") from None
    return tomllib


# ---------------------------------------------------------------------------------------- checks
def _where(section: str, key: str) -> str:
    return f"[{section}] {key}" if section else key


def _unknown(table: Mapping, allowed, section: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise InputError(f"[{section or 'top level'}]: unknown key(s) {', '.join(map(repr, extra))}; "
                         f"allowed keys: {', '.join(sorted(allowed))}")


def _table(value, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise InputError(f"{where} must be a table, got {value!r}")
    return value


def _number(value, where: str, *, positive=False, minimum=None, unit="") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{where} must be a number{' in ' + unit if unit else ''}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{where} must be finite, got {value!r}")
    if positive and v <= 0:
        raise InputError(f"{where} must be > 0{' ' + unit if unit else ''}, got {value!r}")
    if minimum is not None and v < minimum:
        raise InputError(f"{where} must be >= {minimum}{' ' + unit if unit else ''}, got {value!r}")
    return v


def _integer(value, where: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(f"{where} must be an integer, got {value!r}")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        rng = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise InputError(f"{where} must be an integer {rng}, got {v}")
    return v


def _string(value, where: str, choices=None) -> str:
    if not isinstance(value, str) or not value.strip():
        exp = f"one of {', '.join(map(repr, choices))}" if choices else "a non-empty string"
        raise InputError(f"{where} must be {exp}, got {value!r}")
    if choices is not None and value not in choices:
        raise InputError(f"{where} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _vector(value, where: str, *, positive=False, unit="cm", allow_scalar=False) -> tuple:
    if allow_scalar and isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = [value] * 3
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        scal = "a number or " if allow_scalar else ""
        raise InputError(f"{where} must be {scal}3 numbers (x, y, z) in {unit}, got {value!r}")
    return tuple(_number(v, where, positive=positive, unit=unit) for v in value)


# ---------------------------------------------------------------------------------------- case
@dataclass
class Case:
    """A simulation read from a TOML case file.

    Attributes
    ----------
    title, description : str
    phantom : Phantom
    source : PointSource or PencilBeam
    histories : int
    seed : int
    options : dict
        Keyword options for :func:`iortmc.simulate` (``threads``, ``batches``, ``scoring``,
        ``photon_cutoff``).
    reference_point_cm : (x, y, z) or None
        Where the command-line summary reports the dose (``[output] reference_point_cm``).
    output_file : str or None
        Default output path (``[output] file``), relative to ``base_dir``.
    data : dict
        The parsed TOML (kept in the result's metadata as ``case``).
    base_dir : Path
        Directory that relative paths are resolved against.
    applicator : applicator object or None
        From ``[applicator]`` (already painted into ``phantom``).
    shielding : list
        :class:`~iortmc.clinical.applicators.ShieldingDisc` objects from ``[[shielding]]`` (painted).
    calibration : MonitorUnitCalibration, DoseRateCalibration or None
        From ``[calibration]``; applied to the result by :meth:`run`.
    calibration_reference : Path or None
        ``[calibration] reference_result``: a result file of the reference set-up (default: the
        case's own result is the reference).
    prescription : Prescription or None
        From ``[prescription]``; evaluated by :meth:`run` (``result.metadata["prescription"]``).
    device_materials : list of str
        Names of the applicator and shielding materials (not tissue in reports).
    """

    title: str
    description: str
    phantom: Any
    source: Any
    histories: int
    seed: int
    options: dict = field(default_factory=dict)
    reference_point_cm: tuple | None = None
    output_file: str | None = None
    data: dict = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    applicator: Any = None
    shielding: list = field(default_factory=list)
    calibration: Any = None
    calibration_reference: Any = None
    prescription: Any = None
    device_materials: list = field(default_factory=list)

    def run(self, progress: bool | Callable[[int, int], None] | None = None, *, histories: int | None = None,
            seed: int | None = None, **options):
        """Run the case with :func:`iortmc.simulate` and return the :class:`~iortmc.results.dose.DoseResult`.

        Parameters
        ----------
        progress : bool, callable or None, optional
            Passed to :func:`iortmc.simulate`: None (default) shows a progress bar for runs longer
            than 2 s, ``True`` at once, ``False`` never; a callable ``progress(done, total)`` is
            called after each wave.
        histories, seed : int, optional
            Override the case's values.
        **options
            Override entries of ``[options]`` (simulate keywords: ``threads``, ``batches``, ...).

        The case title and the parsed case file are added to the result's ``metadata``.
        """
        from ..transport import simulate

        n = self.histories if histories is None else _integer(histories, "histories", 1)
        s = self.seed if seed is None else _integer(seed, "seed", 0, 2**63 - 1)
        opts = dict(self.options)
        opts.update({k: v for k, v in options.items() if v is not None})
        opts["progress"] = progress
        result = simulate(self.phantom, self.source, histories=n, seed=s, **opts)
        meta = result.metadata  # the result's own dict: add the case description to it
        meta["case_title"] = self.title
        if self.description:
            meta["case_description"] = self.description
        meta["case"] = _json_safe(self.data)
        self.finish(result)
        return result

    def finish(self, result):
        """Add what the case knows to a result of it: device materials, calibration, prescription."""
        meta = result.metadata
        if self.device_materials:
            meta["device_materials"] = list(self.device_materials)
        if self.applicator is not None and hasattr(self.applicator, "describe"):
            meta["applicator"] = _json_safe(self.applicator.describe())
        if self.calibration is not None:
            ref = result
            if self.calibration_reference is not None:
                from ..results.dose import load

                ref = load(self.calibration_reference)
            self.calibration.calibrate(ref).apply(result)
        if self.prescription is not None:
            plan = self.prescription.evaluate(result)
            meta["prescription"] = {**_json_safe(self.prescription.describe()), "reference": plan.reference,
                                    "reference_dose_Gy_per_history": plan.reference_dose_Gy_per_history,
                                    "rel_unc": plan.rel_unc, "unit": plan.unit, "units": plan.units,
                                    "total_rel_unc": plan.total_rel_unc, "line": plan.line()}
        return result

    def show(self, path=None):
        """Draw the geometry (three material slices through the source or beam axis) before any run;
        returns the matplotlib figure (see :func:`iortmc.clinical.preview.show_geometry`)."""
        from ..clinical.preview import show_geometry

        return show_geometry(self.phantom, self.source, path, title=self.title,
                             metadata={"device_materials": list(self.device_materials)}
                             if self.device_materials else None)

    def default_reference_point(self) -> tuple:
        """The summary's reference point: ``[output] reference_point_cm`` if given, else 1 cm from a
        point source along +x, or 1 cm below the tissue surface on the axis of a beam (cm, (x, y, z))."""
        if self.reference_point_cm is not None:
            return self.reference_point_cm
        import numpy as np

        pos = np.asarray(self.source.position, dtype=float)
        if type(self.source).__name__ in ("PencilBeam", "ElectronBeam"):
            d = np.asarray(self.source.direction, dtype=float)
            d = d / np.linalg.norm(d)
            # entry point into the tissue along the beam (past any air and applicator), then 1 cm deeper
            from ..results.sampling import entry_surface

            try:
                t_in = entry_surface(self.phantom, pos, d).distance_cm
            except InputError:
                t_in = _entry_distance(self.phantom, pos, d)
            p = pos + d * ((t_in if t_in is not None else 0.0) + 1.0)
        else:
            p = pos + np.array([1.0, 0.0, 0.0])
        return tuple(float(v) for v in p)


def _entry_distance(phantom, pos, d):
    """Distance along ``d`` from ``pos`` to the phantom's bounding box (0 inside; None if missed)."""
    t0, t1 = 0.0, math.inf
    for a, (lo, hi) in enumerate(phantom.extent):
        if d[a] == 0.0:
            if not lo <= pos[a] <= hi:
                return None
            continue
        ta, tb = (lo - pos[a]) / d[a], (hi - pos[a]) / d[a]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    return t0 if t0 <= t1 else None


def _json_safe(value):
    """TOML values as JSON-compatible values (TOML dates become ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------------------------------- readers
def load_case(path) -> Case:
    """Read a TOML case file (format: ``docs/case-format.md``); InputError for any bad field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read case file {str(p)!r}: {exc.strerror or exc}") from None
    return loads_case(text, base_dir=p.resolve().parent, name=str(p))


def loads_case(text: str, base_dir=None, name: str = "<string>") -> Case:
    """Read a case from TOML text; relative paths resolve against ``base_dir`` (default: cwd)."""
    tomllib = _toml()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"case file {name}: not valid TOML: {exc}") from None
    return case_from_dict(data, base_dir=base_dir)


def case_from_dict(data: Mapping, base_dir=None) -> Case:
    """Build a :class:`Case` from parsed TOML (a dict); see :func:`load_case`."""
    data = _table(data, "the case")
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    _unknown(data, _TOP_KEYS, "")
    if "case_format" in data:
        fmt = _integer(data["case_format"], "case_format", 1)
        if fmt != CASE_FORMAT:
            raise InputError(f"case_format must be {CASE_FORMAT} (the version this iortmc reads), got {fmt}")
    title = _string(data["title"], "title") if "title" in data else "iortmc case"
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"description must be a string, got {description!r}")
    for key in ("histories", "phantom", "source"):
        if key not in data:
            raise InputError(f"the case has no {key!r} (required); see docs/case-format.md")
    histories = _integer(data["histories"], "histories", 1, 2**62)
    seed = _integer(data.get("seed", 1), "seed", 0, 2**63 - 1)
    materials = _materials(data.get("materials", {}))
    app = _applicator(data["applicator"], materials) if "applicator" in data else None
    ptab = _table(data["phantom"], "[phantom]")
    stab = _table(data["source"], "[source]")
    phantom, app_source, devices = _clinical_phantom(ptab, materials, app, stab, base)
    discs = _shielding(data.get("shielding", []), materials)
    for i, sh in enumerate(discs):
        disc, ss = sh
        try:
            import warnings as _w

            with _w.catch_warnings():
                _w.simplefilter("ignore")
                disc.paint(phantom, supersample=ss)
        except InputError as exc:
            raise InputError(f"[[shielding]] #{i + 1}: {exc}") from None
        devices += [m.name for m, _ in disc.layers]
    if stab.get("type") == "applicator":
        if app_source is None:
            raise InputError("[source] type = \"applicator\" needs an [applicator] section")
        source = _applicator_source(stab, app, app_source, base)
    else:
        source = _source(stab, base)
    options = _options(_table(data.get("options", {}), "[options]"))
    calibration, cal_ref = (_calibration(_table(data["calibration"], "[calibration]"), base)
                            if "calibration" in data else (None, None))
    prescription = (_prescription(_table(data["prescription"], "[prescription]"), phantom, source, app)
                    if "prescription" in data else None)
    out = _table(data.get("output", {}), "[output]")
    _unknown(out, _OUTPUT_KEYS, "output")
    ref = None
    if "reference_point_cm" in out:
        ref = _vector(out["reference_point_cm"], "[output] reference_point_cm")
        if not phantom.contains(ref):
            raise InputError(f"[output] reference_point_cm {ref} lies outside the phantom {phantom.extent} cm")
    ofile = _string(out["file"], "[output] file") if "file" in out else None
    from ..transport.reach import check_reach

    check_reach(phantom, source)
    return Case(title=title, description=description, phantom=phantom, source=source, histories=histories,
                seed=seed, options=options, reference_point_cm=ref, output_file=ofile,
                data=dict(data), base_dir=base, applicator=app,
                shielding=[d for d, _ in discs],
                calibration=calibration, calibration_reference=cal_ref, prescription=prescription,
                device_materials=sorted(set(devices)))


# ---------------------------------------------------------------------------------------- sections
def _materials(table) -> dict:
    from ..physics import materials as lib
    from ..physics.materials import Material

    table = _table(table, "[materials]")
    known = set(lib.names())
    out = {}
    for name, spec in table.items():
        where = f"[materials.{name}]"
        spec = _table(spec, where)
        _unknown(spec, _MATERIAL_KEYS, f"materials.{name}")
        if name.lower() in known:
            raise InputError(f"{where}: {name!r} is the name of a built-in material; choose another name "
                             f"(use base = {name!r} to derive a material from it)")
        desc = spec.get("description", "")
        if "base" in spec:
            for k in ("composition", "formula"):
                if k in spec:
                    raise InputError(f"{where}: give base or {k}, not both")
            base_name = _string(spec["base"], f"{where} base")
            try:
                base = out[base_name] if base_name in out else lib.material(base_name)
            except InputError as exc:
                raise InputError(f"{where} base: {exc}") from None
            density = _number(spec.get("density", base.density), f"{where} density", positive=True,
                              unit="g/cm3")
            i_ev = _number(spec.get("I_eV", base.I_eV), f"{where} I_eV", positive=True, unit="eV")
            out[name] = Material(name, density=density, composition=dict(base.composition), I_eV=i_ev,
                                 citation=f"derived from {base.name!r}", description=str(desc))
            continue
        if "density" not in spec:
            raise InputError(f"{where} density is required (g/cm3)")
        density = _number(spec["density"], f"{where} density", positive=True, unit="g/cm3")
        i_ev = None
        if "I_eV" in spec:
            i_ev = _number(spec["I_eV"], f"{where} I_eV", positive=True, unit="eV")
        comp = spec.get("composition")
        formula = spec.get("formula")
        if (comp is None) == (formula is None):
            raise InputError(f"{where}: give exactly one of composition (element = mass fraction) or "
                             f"formula (e.g. \"H2O\") or base (a library material)")
        if comp is not None:
            comp = _table(comp, f"{where} composition")
            for el, w in comp.items():
                _number(w, f"{where} composition.{el}", minimum=0.0)
        else:
            formula = _string(formula, f"{where} formula")
        try:
            out[name] = Material(name, density=density, composition=dict(comp) if comp else None,
                                 formula=formula, I_eV=i_ev, description=str(desc))
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    return out


def _material(name, custom: dict, where: str):
    from ..physics.materials import material as library_material

    name = _string(name, where)
    if name in custom:
        return custom[name]
    try:
        return library_material(name)
    except InputError as exc:
        raise InputError(f"{where}: {exc} (or define it under [materials.{name}])") from None


def _phantom(t, custom):
    from ..geometry import Phantom

    _unknown(t, _PHANTOM_KEYS, "phantom")
    kind = _string(t.get("type", "box"), "[phantom] type", _PHANTOM_TYPES)
    if "voxel_size_cm" not in t:
        raise InputError("[phantom] voxel_size_cm is required: a number or 3 numbers (x, y, z) in cm")
    vs = _vector(t["voxel_size_cm"], "[phantom] voxel_size_cm", positive=True, allow_scalar=True)
    origin = _vector(t["origin_cm"], "[phantom] origin_cm") if "origin_cm" in t else None
    if kind == "box":
        for k in ("axis", "lateral_cm", "layers"):
            if k in t:
                raise InputError(f"[phantom] {k} applies to type = \"slabs\" only (type is \"box\")")
        if ("size_cm" in t) == ("shape" in t):
            raise InputError("[phantom]: give exactly one of size_cm (x, y, z extent in cm) or shape "
                             "([nz, ny, nx] voxels)")
        if "size_cm" in t:
            size = _vector(t["size_cm"], "[phantom] size_cm", positive=True)
            n_xyz = []
            for s, d, ax in zip(size, vs, "xyz"):
                n = s / d
                if abs(n - round(n)) > 1e-6 * max(1.0, n):
                    raise InputError(f"[phantom] size_cm: the {ax} extent {s} cm is not a whole number of "
                                     f"{d} cm voxels")
                n_xyz.append(int(round(n)))
            shape = (n_xyz[2], n_xyz[1], n_xyz[0])
        else:
            sh = t["shape"]
            if not isinstance(sh, (list, tuple)) or len(sh) != 3:
                raise InputError(f"[phantom] shape must be 3 integers [nz, ny, nx], got {sh!r}")
            shape = tuple(_integer(v, "[phantom] shape", 1) for v in sh)
        nvox = shape[0] * shape[1] * shape[2]
        if nvox > 400_000_000:
            raise InputError(f"[phantom] has {nvox} voxels (shape {shape}); at most 4e8 are allowed")
        mat = _material(t.get("material", "water"), custom, "[phantom] material")
        ph = Phantom.box(shape=shape, voxel_size=vs, material=mat, origin=origin)
    else:
        for k in ("size_cm", "shape", "material"):
            if k in t:
                raise InputError(f"[phantom] {k} applies to type = \"box\" only; slabs take layers, axis "
                                 f"and lateral_cm")
        axis = _string(t.get("axis", "z"), "[phantom] axis", ("x", "y", "z"))
        lateral = _vector(t.get("lateral_cm", 20.0), "[phantom] lateral_cm", positive=True, allow_scalar=True)
        layers = t.get("layers")
        if not isinstance(layers, list) or not layers:
            raise InputError("[phantom] layers must be a non-empty array of tables "
                             "([[phantom.layers]] with material and thickness_cm)")
        mats, thick = [], []
        for i, layer in enumerate(layers):
            w = f"[[phantom.layers]] #{i + 1}"
            layer = _table(layer, w)
            _unknown(layer, {"material", "thickness_cm"}, f"phantom.layers #{i + 1}")
            if "material" not in layer or "thickness_cm" not in layer:
                raise InputError(f"{w} needs material and thickness_cm")
            mats.append(_material(layer["material"], custom, f"{w} material"))
            thick.append(_number(layer["thickness_cm"], f"{w} thickness_cm", positive=True, unit="cm"))
        try:
            ph = Phantom.slabs(thick, mats, axis=axis, lateral_cm=lateral, voxel_size=vs, origin=origin)
        except InputError as exc:
            raise InputError(f"[phantom] layers: {exc}") from None
    paints = t.get("paint", [])
    if not isinstance(paints, list):
        raise InputError(f"[phantom] paint must be an array of tables ([[phantom.paint]]), got {paints!r}")
    for i, p in enumerate(paints):
        _paint(ph, _table(p, f"[[phantom.paint]] #{i + 1}"), i + 1, custom)
    return ph


def _paint(ph, p, n, custom) -> None:
    w = f"[[phantom.paint]] #{n}"
    shape = _string(p.get("shape"), f"{w} shape", tuple(_PAINT_KEYS))
    _unknown(p, _PAINT_KEYS[shape], f"phantom.paint #{n} ({shape})")
    mat = _material(p.get("material"), custom, f"{w} material")
    rho = _number(p["density"], f"{w} density", positive=True, unit="g/cm3") if "density" in p else None
    need = sorted(_PAINT_KEYS[shape] - {"shape", "material", "density", "axis"} - set(p))
    if need:
        raise InputError(f"{w} ({shape}) needs {', '.join(need)}")
    if shape == "sphere":
        ph.paint_sphere(_vector(p["center_cm"], f"{w} center_cm"),
                        _number(p["radius_cm"], f"{w} radius_cm", positive=True, unit="cm"), mat, density=rho)
    elif shape == "cylinder":
        axis = _string(p.get("axis", "z"), f"{w} axis", ("x", "y", "z"))
        ph.paint_cylinder(_vector(p["center_cm"], f"{w} center_cm"),
                          _number(p["radius_cm"], f"{w} radius_cm", positive=True, unit="cm"),
                          _number(p["length_cm"], f"{w} length_cm", positive=True, unit="cm"), mat,
                          axis=axis, density=rho)
    else:
        lo = _vector(p["lower_cm"], f"{w} lower_cm")
        hi = _vector(p["upper_cm"], f"{w} upper_cm")
        if any(h <= l for l, h in zip(lo, hi)):
            raise InputError(f"{w}: upper_cm {hi} must exceed lower_cm {lo} in x, y and z")
        ph.paint_box(lo, hi, mat, density=rho)


# ---------------------------------------------------------------------------------------- clinical set-ups
def _bool(value, where):
    if not isinstance(value, bool):
        raise InputError(f"{where} must be true or false, got {value!r}")
    return value


def _pair(value, where):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InputError(f"{where} must be 2 numbers (x, y) in cm, got {value!r}")
    return tuple(_number(v, where, unit="cm") for v in value)


def _applicator(t, custom):
    """The applicator object from [applicator] (not painted yet)."""
    from ..clinical import applicators as A

    t = _table(t, "[applicator]")
    kind = _string(t.get("kind"), "[applicator] kind", tuple(APPLICATOR_KINDS))
    cls_name, keys = APPLICATOR_KINDS[kind]
    _unknown(t, keys | _APPLICATOR_COMMON, f"applicator ({kind})")
    kw = {}
    for k, v in t.items():
        w = f"[applicator] {k}"
        if k in ("kind", "supersample"):
            continue
        if k.endswith("material"):
            kw[k] = _material(v, custom, w)
        elif k == "position_cm":
            kw["position"] = _vector(v, w)
        elif k in ("direction", "probe_direction"):
            kw[k] = _vector(v, w, unit="(unit-free)")
        elif k == "center_xy_cm":
            kw["center_xy"] = _pair(v, w)
        else:
            kw[k] = _number(v, w)
    try:
        return getattr(A, cls_name)(**kw)
    except InputError as exc:
        raise InputError(f"[applicator] ({kind}): {exc}") from None


def _supersample(t, where, default):
    return _integer(t.get("supersample", default), f"{where} supersample", 1, 7)


def _clinical_phantom(t, custom, app, stab, base: Path):
    """(phantom, the applicator's own source or None, device material names)."""
    kind = t.get("type", "box")
    devices = []
    app_source = None
    if kind == "ioert":
        _unknown(t, _IOERT_PHANTOM_KEYS, "phantom (ioert)")
        if app is None or type(app).__name__ != "IOERTApplicator":
            raise InputError("[phantom] type = \"ioert\" needs an [applicator] of kind = \"ioert\"")
        energy = _ioert_energy(stab, base)
        kw = {"depth_cm": _number(t.get("depth_cm", 8.0), "[phantom] depth_cm", positive=True, unit="cm"),
              "lateral_cm": _number(t.get("lateral_cm", 16.0), "[phantom] lateral_cm", positive=True, unit="cm"),
              "tissue": _material(t.get("material", "water"), custom, "[phantom] material"),
              "supersample": _supersample(t, "[phantom]", 3)}
        if "voxel_size_cm" in t:
            kw["voxel_size_cm"] = _vector(t["voxel_size_cm"], "[phantom] voxel_size_cm", positive=True,
                                          allow_scalar=True)
        if "air_margin_cm" in t:
            kw["air_margin_cm"] = _number(t["air_margin_cm"], "[phantom] air_margin_cm", minimum=0.0, unit="cm")
        kw.update(_beam_kw(stab))
        try:
            ph, app_source = app.build(energy, **kw)
        except InputError as exc:
            raise InputError(f"[phantom] (ioert): {exc}") from None
        devices.append(app.material.name)
    elif kind == "breast":
        from ..geometry.phantoms import breast_phantom

        _unknown(t, _BREAST_KEYS, "phantom (breast)")
        kw = {}
        for k in ("skin_cm", "breast_cm", "chest_wall_cm", "rib_diameter_cm", "lung_cm", "air_above_cm",
                  "cavity_depth_cm", "cavity_radius_cm"):
            if k in t:
                kw[k] = _number(t[k], f"[phantom] {k}", minimum=0.0, unit="cm")
        if "gland_fraction" in t:
            kw["gland_fraction"] = _number(t["gland_fraction"], "[phantom] gland_fraction", minimum=0.0)
        if "voxel_size_cm" in t:
            kw["voxel_size_cm"] = _vector(t["voxel_size_cm"], "[phantom] voxel_size_cm", positive=True,
                                          allow_scalar=True)
        if "size_cm" in t:
            v = t["size_cm"]
            kw["size_cm"] = (_number(v, "[phantom] size_cm", positive=True, unit="cm")
                             if not isinstance(v, list) else _pair(v, "[phantom] size_cm"))
        if "rib_y_cm" in t:
            ry = t["rib_y_cm"]
            if not isinstance(ry, list):
                raise InputError(f"[phantom] rib_y_cm must be an array of y positions in cm, got {ry!r}")
            kw["rib_y_cm"] = [_number(v, "[phantom] rib_y_cm", unit="cm") for v in ry]
        kw["supersample"] = _supersample(t, "[phantom]", 1)
        cav = t.get("cavity", "applicator" if app is not None else "saline")
        cav = _string(cav, "[phantom] cavity", ("air", "saline", "none", "applicator"))
        if cav == "applicator":
            if app is None or not hasattr(app, "radius_cm"):
                raise InputError("[phantom] cavity = \"applicator\" needs a spherical or balloon [applicator]")
            kw["cavity"] = app
        else:
            kw["cavity"] = None if cav == "none" else cav
        try:
            ph, info = breast_phantom(**kw)
        except InputError as exc:
            raise InputError(f"[phantom] (breast): {exc}") from None
        if cav == "applicator":
            app.position = np.asarray(info["cavity_center_cm"], dtype=float)
            app_source = info.get("source") or app.source()
            devices += _app_materials(app)
        elif app is not None:
            app_source = _paint_app(ph, app, t)
            devices += _app_materials(app)
    elif kind == "ct":
        ph = _ct_phantom(t, custom, base)
        if app is not None:
            app_source = _paint_app(ph, app, t)
            devices += _app_materials(app)
    else:
        ph = _phantom(t, custom)
        if app is not None:
            if type(app).__name__ == "IOERTApplicator":
                raise InputError("an [applicator] of kind = \"ioert\" builds its own phantom: use "
                                 "[phantom] type = \"ioert\"")
            app_source = _paint_app(ph, app, t)
            devices += _app_materials(app)
    if kind in ("breast", "ct", "ioert"):
        paints = t.get("paint", [])
        if not isinstance(paints, list):
            raise InputError(f"[phantom] paint must be an array of tables ([[phantom.paint]]), got {paints!r}")
        for i, p in enumerate(paints):
            _paint(ph, _table(p, f"[[phantom.paint]] #{i + 1}"), i + 1, custom)
    return ph, app_source, devices


def _app_materials(app):
    names = []
    for k in ("material", "wall_material", "probe_material", "catheter_material"):
        m = getattr(app, k, None)
        if m is not None and m.name not in ("air", "water", "saline"):
            names.append(m.name)
    return names


def _paint_app(ph, app, t):
    import numpy as _np

    b = app.bounds()
    lo = _np.array([e[0] for e in ph.extent])
    hi = _np.array([e[1] for e in ph.extent])
    if any(b[a][1] < lo[a] or b[a][0] > hi[a] for a in range(3)):
        raise InputError(f"[applicator] lies outside the phantom (applicator bounds {b} cm, phantom "
                         f"{ph.extent} cm)")
    if not ph.contains(tuple(app.source().position.tolist())):
        raise InputError(f"[applicator]: its source position {tuple(app.source().position.tolist())} cm lies "
                         f"outside the phantom {ph.extent} cm")
    try:
        return app.paint(ph, supersample=1)
    except InputError as exc:
        raise InputError(f"[applicator]: {exc}") from None


def _ct_phantom(t, custom, base: Path):
    from .. import dicom

    _unknown(t, _CT_KEYS, "phantom (ct)")
    if "ct" not in t:
        raise InputError("[phantom] type = \"ct\" needs ct = the CT series (a directory or a file), relative "
                         "to the case file")
    path = Path(_string(t["ct"], "[phantom] ct"))
    path = path if path.is_absolute() else base / path
    ct = dicom.read_ct_series(path)
    vs = (_vector(t["voxel_size_cm"], "[phantom] voxel_size_cm", positive=True, allow_scalar=True)
          if "voxel_size_cm" in t else None)
    ph = dicom.ct_to_phantom(ct, voxel_size=vs)
    structs = t.get("structures", [])
    if structs and "rtstruct" not in t:
        raise InputError("[phantom] structures need rtstruct = the RT Structure Set file")
    if "rtstruct" in t:
        rs = Path(_string(t["rtstruct"], "[phantom] rtstruct"))
        rs = rs if rs.is_absolute() else base / rs
        masks = dicom.read_rtstruct(rs, ph)
        if not isinstance(structs, list):
            raise InputError(f"[phantom] structures must be an array of tables ([[phantom.structures]]), "
                             f"got {structs!r}")
        for i, st in enumerate(structs):
            w = f"[[phantom.structures]] #{i + 1}"
            st = _table(st, w)
            _unknown(st, {"roi", "material", "density"}, f"phantom.structures #{i + 1}")
            roi = _string(st.get("roi"), f"{w} roi")
            if roi not in masks:
                raise InputError(f"{w}: the RT Structure Set {str(rs)!r} has no ROI named {roi!r}; it has "
                                 f"{', '.join(map(repr, sorted(masks))) or 'none'}")
            mat = _material(st.get("material"), custom, f"{w} material")
            rho = _number(st["density"], f"{w} density", positive=True, unit="g/cm3") if "density" in st else None
            if not masks[roi].any():
                raise InputError(f"{w}: ROI {roi!r} covers no voxel of the CT grid")
            ph._paint(masks[roi], mat, rho)
    return ph


def _ioert_energy(stab, base):
    if stab.get("type") != "applicator":
        raise InputError("[phantom] type = \"ioert\" takes its beam from the applicator: use [source] "
                         "type = \"applicator\" with energy_MeV or spectrum")
    if ("energy_MeV" in stab) == ("spectrum" in stab):
        raise InputError("[source] (applicator, ioert) needs exactly one of energy_MeV (kinetic) or spectrum")
    if "energy_MeV" in stab:
        return _number(stab["energy_MeV"], "[source] energy_MeV", positive=True, unit="MeV")
    return _spectrum(stab["spectrum"], base)


_APP_SOURCE_KEYS = {"type", "energy_MeV", "spectrum", "angular_spread_rad", "energy_spread_fwhm_MeV",
                    "source_distance_cm", "beam_gap_cm"}


def _beam_kw(stab):
    kw = {}
    if "angular_spread_rad" in stab:
        kw["angular_spread"] = _number(stab["angular_spread_rad"], "[source] angular_spread_rad", minimum=0.0,
                                       unit="rad")
    if "energy_spread_fwhm_MeV" in stab:
        kw["energy_spread"] = _number(stab["energy_spread_fwhm_MeV"], "[source] energy_spread_fwhm_MeV",
                                      minimum=0.0, unit="MeV")
    if "source_distance_cm" in stab:
        kw["source_distance_cm"] = _number(stab["source_distance_cm"], "[source] source_distance_cm",
                                           positive=True, unit="cm")
    if "beam_gap_cm" in stab:
        kw["beam_gap_cm"] = _number(stab["beam_gap_cm"], "[source] beam_gap_cm", minimum=0.0, unit="cm")
    return kw


def _applicator_source(stab, app, app_source, base):
    _unknown(stab, _APP_SOURCE_KEYS if type(app).__name__ == "IOERTApplicator" else {"type", "spectrum"},
             "source (applicator)")
    if type(app).__name__ == "IOERTApplicator":
        return app_source
    if "spectrum" in stab:
        from ..sources import PointSource

        return PointSource(_spectrum(stab["spectrum"], base), position=tuple(app_source.position.tolist()))
    return app_source


def _shielding(value, custom):
    from ..clinical.applicators import ShieldingDisc

    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise InputError(f"[[shielding]] must be an array of tables, got {value!r}")
    out = []
    for i, t in enumerate(value):
        w = f"[[shielding]] #{i + 1}"
        t = _table(t, w)
        _unknown(t, _SHIELD_KEYS, f"shielding #{i + 1}")
        layers = t.get("layers")
        if not isinstance(layers, list) or not layers:
            raise InputError(f"{w} layers must be a non-empty array of {{material, thickness_cm}} tables, beam "
                             f"side first, got {layers!r}")
        ls = []
        for j, layer in enumerate(layers):
            lw = f"{w} layers[{j}]"
            layer = _table(layer, lw)
            _unknown(layer, {"material", "thickness_cm"}, f"shielding #{i + 1} layers[{j}]")
            if "material" not in layer or "thickness_cm" not in layer:
                raise InputError(f"{lw} needs material and thickness_cm")
            ls.append((_material(layer["material"], custom, f"{lw} material"),
                       _number(layer["thickness_cm"], f"{lw} thickness_cm", positive=True, unit="cm")))
        kw = {}
        if "diameter_cm" in t:
            kw["diameter_cm"] = _number(t["diameter_cm"], f"{w} diameter_cm", positive=True, unit="cm")
        if "depth_cm" in t:
            kw["depth_cm"] = _number(t["depth_cm"], f"{w} depth_cm", minimum=0.0, unit="cm")
        if "center_xy_cm" in t:
            kw["center_xy"] = _pair(t["center_xy_cm"], f"{w} center_xy_cm")
        try:
            out.append((ShieldingDisc(layers=ls, **kw), _supersample(t, w, 3)))
        except InputError as exc:
            raise InputError(f"{w}: {exc}") from None
    return out


def _calibration(t, base: Path):
    from ..clinical.calibration import DoseRateCalibration, MonitorUnitCalibration

    kind = _string(t.get("type"), "[calibration] type", tuple(_CALIBRATION_TYPES))
    _unknown(t, _CALIBRATION_TYPES[kind], f"calibration ({kind})")
    ref = None
    if "reference_result" in t:
        ref = Path(_string(t["reference_result"], "[calibration] reference_result"))
        ref = ref if ref.is_absolute() else base / ref
        if not ref.is_file():
            raise InputError(f"[calibration] reference_result {str(ref)!r} does not exist (a result file of the "
                             "reference set-up, written by iortmc run)")
    try:
        if kind == "monitor_units":
            if "Gy_per_MU" not in t:
                raise InputError("Gy_per_MU is required (the measured dose per monitor unit at the reference)")
            depth = t.get("reference_depth_cm", "dmax")
            if not isinstance(depth, str):
                depth = _number(depth, "[calibration] reference_depth_cm", positive=True, unit="cm")
            kw = {}
            if "energy_MeV" in t:
                kw["energy_MeV"] = _number(t["energy_MeV"], "[calibration] energy_MeV", positive=True, unit="MeV")
            if "applicator" in t:
                kw["applicator"] = _string(t["applicator"], "[calibration] applicator")
            return MonitorUnitCalibration(_number(t["Gy_per_MU"], "[calibration] Gy_per_MU", positive=True,
                                                  unit="Gy/MU"), depth, **kw), ref
        if kind == "dose_rate":
            if "Gy_per_min" not in t:
                raise InputError("Gy_per_min is required (the measured dose rate at the reference point)")
            if ("point_cm" in t) == ("offset_cm" in t):
                raise InputError("give exactly one of point_cm (absolute) or offset_cm (from the source)")
            rate = _number(t["Gy_per_min"], "[calibration] Gy_per_min", positive=True, unit="Gy/min")
            if "point_cm" in t:
                return DoseRateCalibration.from_dose_rate(rate, _vector(t["point_cm"], "[calibration] point_cm")), ref
            return DoseRateCalibration.from_dose_rate(rate, offset_cm=_vector(t["offset_cm"],
                                                                              "[calibration] offset_cm")), ref
        for k in ("air_kerma_strength_U", "dose_rate_constant_cGy_per_h_per_U"):
            if k not in t:
                raise InputError(f"{k} is required")
        kw = {}
        if "transverse" in t:
            kw["transverse"] = _vector(t["transverse"], "[calibration] transverse", unit="(unit-free)")
        return DoseRateCalibration.from_air_kerma_strength(
            _number(t["air_kerma_strength_U"], "[calibration] air_kerma_strength_U", positive=True, unit="U"),
            _number(t["dose_rate_constant_cGy_per_h_per_U"], "[calibration] dose_rate_constant_cGy_per_h_per_U",
                    positive=True, unit="cGy/(h U)"), **kw), ref
    except InputError as exc:
        if str(exc).startswith("[calibration]"):
            raise
        raise InputError(f"[calibration] ({kind}): {exc}") from None


def _prescription(t, phantom, source, app):
    from ..clinical.prescription import PRESCRIPTION_KINDS, Prescription
    from ..results.sampling import entry_surface, _box_interval

    _unknown(t, _PRESCRIPTION_KEYS, "prescription")
    if "dose_Gy" not in t:
        raise InputError("[prescription] dose_Gy is required (the prescribed dose in Gy)")
    at = _string(t.get("at"), "[prescription] at", PRESCRIPTION_KINDS)
    kw = {}
    for k in ("depth_cm", "isodose_percent", "radius_cm"):
        if k in t:
            kw[k] = _number(t[k], f"[prescription] {k}", positive=True)
    for k in ("center_cm", "point_cm"):
        if k in t:
            kw[k] = _vector(t[k], f"[prescription] {k}")
    if at == "surface" and "radius_cm" not in kw and app is not None and hasattr(app, "radius_cm"):
        kw["radius_cm"] = float(app.radius_cm)
    try:
        rx = Prescription(_number(t["dose_Gy"], "[prescription] dose_Gy", positive=True, unit="Gy"), at, **kw)
    except InputError as exc:
        raise InputError(f"[prescription]: {exc}") from None
    if at in ("depth", "isodose"):
        if not hasattr(source, "direction") or type(source).__name__ == "PointSource":
            raise InputError(f"[prescription] at = {at!r} applies to a beam (its central axis); this source is a "
                             f"{type(source).__name__}: use at = \"surface\" or \"point\"")
        if at == "depth":
            p = np.asarray(source.position, dtype=float)
            d = np.asarray(source.direction, dtype=float)
            d = d / np.linalg.norm(d)
            es = entry_surface(phantom, p, d, what="[prescription] the beam axis")
            iv = _box_interval(phantom, p, d)
            room = iv[1] - es.distance_cm
            if rx.depth_cm >= room:
                raise InputError(f"[prescription] depth_cm = {rx.depth_cm:g} cm lies outside the phantom: the beam "
                                 f"axis runs {room:.3g} cm through it below the tissue surface")
    elif at == "point" and not phantom.contains(rx.point_cm):
        raise InputError(f"[prescription] point_cm {rx.point_cm} lies outside the phantom {phantom.extent} cm")
    elif at == "surface" and rx.center_cm is not None and not phantom.contains(rx.center_cm):
        raise InputError(f"[prescription] center_cm {rx.center_cm} lies outside the phantom {phantom.extent} cm")
    return rx


def _spectrum(value, base: Path):
    from ..sources import Spectrum

    where = "[source] spectrum"
    if isinstance(value, str):
        value = {"builtin": value}
    t = _table(value, where)
    forms = [k for k in _SPECTRUM_FORMS if k in t]
    if len(forms) != 1:
        raise InputError(f"{where} must have exactly one of {', '.join(_SPECTRUM_FORMS)}, got keys "
                         f"{sorted(t)}")
    form = forms[0]
    allowed = {form, "name"} | ({"energy_unit"} if form == "file" else set()) | (
        {"weights"} if form in ("lines", "histogram") else set())
    _unknown(t, allowed, "source.spectrum")
    try:
        if form == "energy_MeV":
            return Spectrum.mono(_number(t[form], f"{where} energy_MeV", positive=True, unit="MeV"))
        if form == "energy_keV":
            return Spectrum.mono(1e-3 * _number(t[form], f"{where} energy_keV", positive=True, unit="keV"))
        if form == "builtin":
            return Spectrum.builtin(_string(t[form], f"{where} builtin"))
        if form == "file":
            path = Path(_string(t["file"], f"{where} file"))
            if not path.is_absolute():
                path = base / path
            unit = _string(t.get("energy_unit", "keV"), f"{where} energy_unit", ("keV", "MeV", "eV"))
            return Spectrum.from_file(path, energy_unit=unit, name=t.get("name"))
        # inline lines (energies in MeV) or histogram (bin edges in MeV)
        e = t[form]
        w = t.get("weights")
        if not isinstance(e, list) or not isinstance(w, list):
            key = "lines" if form == "lines" else "histogram"
            raise InputError(f"{where}: {key} (MeV) and weights must both be arrays of numbers")
        kw = {"energies": e} if form == "lines" else {"edges": e}
        return Spectrum(weights=w, name=str(t.get("name", form)), **kw)
    except InputError as exc:
        if str(exc).startswith(where):
            raise
        raise InputError(f"{where}: {exc}") from None


def _electron_beam(t, base: Path):
    from ..sources import ElectronBeam

    _unknown(t, _BEAM_KEYS, "source")
    if ("energy_MeV" in t) == ("spectrum" in t):
        raise InputError("[source] an electron_beam needs exactly one of energy_MeV (kinetic) or spectrum")
    energy = (_number(t["energy_MeV"], "[source] energy_MeV", positive=True, unit="MeV")
              if "energy_MeV" in t else _spectrum(t["spectrum"], base))
    kw = {}
    if "field_diameter_cm" in t:
        kw["field_diameter"] = _number(t["field_diameter_cm"], "[source] field_diameter_cm", positive=True,
                                       unit="cm")
    if "field_size_cm" in t:
        fs = t["field_size_cm"]
        if not (isinstance(fs, list) and len(fs) == 2):
            raise InputError(f"[source] field_size_cm must be [sx, sy] in cm, got {fs!r}")
        kw["field_size"] = tuple(_number(v, "[source] field_size_cm", positive=True, unit="cm") for v in fs)
    if "energy_spread_fwhm_MeV" in t:
        kw["energy_spread"] = _number(t["energy_spread_fwhm_MeV"], "[source] energy_spread_fwhm_MeV",
                                      unit="MeV")
    if "angular_spread_rad" in t:
        kw["angular_spread"] = _number(t["angular_spread_rad"], "[source] angular_spread_rad", unit="rad")
    if "source_distance_cm" in t:
        kw["source_distance"] = _number(t["source_distance_cm"], "[source] source_distance_cm",
                                        positive=True, unit="cm")
    if "particle" in t:
        kw["particle"] = _string(t["particle"], "[source] particle", ("e-", "e+"))
    pos = _vector(t.get("position_cm", [0.0, 0.0, 0.0]), "[source] position_cm")
    d = _vector(t.get("direction", [0.0, 0.0, 1.0]), "[source] direction", unit="(unit-free)")
    try:
        return ElectronBeam(energy, position=pos, direction=d, **kw)
    except InputError as exc:
        raise InputError(f"[source] {exc}") from None


def _phase_space(t, base: Path):
    from ..sources import PhaseSpaceSource

    _unknown(t, _PHSP_KEYS, "source")
    if "file" not in t:
        raise InputError("[source] a phase_space needs file = the IAEA phase space (base name, "
                         ".IAEAheader or .IAEAphsp), relative to the case file")
    path = Path(_string(t["file"], "[source] file"))
    if not path.is_absolute():
        path = base / path
    kw = {}
    if "translate_cm" in t:
        kw["translate"] = _vector(t["translate_cm"], "[source] translate_cm")
    if "recycle" in t:
        kw["recycle"] = _integer(t["recycle"], "[source] recycle", 1)
    if "skip_unsupported" in t:
        if not isinstance(t["skip_unsupported"], bool):
            raise InputError(f"[source] skip_unsupported must be true or false, got {t['skip_unsupported']!r}")
        kw["skip_unsupported"] = t["skip_unsupported"]
    try:
        return PhaseSpaceSource(path, **kw)
    except InputError as exc:
        raise InputError(f"[source] {exc}") from None


def _source(t, base: Path):
    from ..sources import PencilBeam, PointSource

    if t.get("type") == "electron_beam":
        return _electron_beam(t, base)
    if t.get("type") == "phase_space":
        return _phase_space(t, base)
    kind = t.get("type")
    if kind in _RESERVED_SOURCE_TYPES:
        raise InputError(f"[source] type = {kind!r} is not available in this version of iortmc (the "
                         f"electron engine is not part of it yet); available: "
                         f"{', '.join(map(repr, _SOURCE_TYPES))}")
    kind = _string(kind, "[source] type", _SOURCE_TYPES)
    allowed = {"type", "position_cm", "spectrum"} | ({"direction"} if kind == "pencil_beam" else set())
    _unknown(t, allowed, "source")
    if "spectrum" not in t:
        raise InputError("[source] spectrum is required: a built-in name, or a table with one of "
                         f"{', '.join(_SPECTRUM_FORMS)}")
    spectrum = _spectrum(t["spectrum"], base)
    pos = _vector(t.get("position_cm", [0.0, 0.0, 0.0]), "[source] position_cm")
    if kind == "point":
        return PointSource(spectrum, position=pos)
    d = _vector(t.get("direction", [0.0, 0.0, 1.0]), "[source] direction", unit="(unit-free)")
    if all(v == 0 for v in d):
        raise InputError("[source] direction must not be [0, 0, 0]")
    return PencilBeam(spectrum, position=pos, direction=d)


def _options(t) -> dict:
    _unknown(t, OPTION_KEYS, "options")
    out = {}
    if "threads" in t:
        out["threads"] = _integer(t["threads"], "[options] threads", 1)
    if "batches" in t:
        out["batches"] = _integer(t["batches"], "[options] batches", 1)
    if "scoring" in t:
        out["scoring"] = _string(t["scoring"], "[options] scoring", ("kerma", "analog"))
    if "photon_cutoff_MeV" in t:
        out["photon_cutoff"] = _number(t["photon_cutoff_MeV"], "[options] photon_cutoff_MeV", positive=True,
                                       unit="MeV")
    if "electrons" in t:
        if not isinstance(t["electrons"], bool):
            raise InputError(f"[options] electrons must be true or false, got {t['electrons']!r}")
        out["electrons"] = t["electrons"]
    for key in ("electron_cutoff_MeV", "delta_threshold_MeV", "brems_threshold_MeV",
                "max_energy_loss_fraction"):
        if key in t:
            out[OPTION_KEYS[key]] = _number(t[key], f"[options] {key}", positive=True)
    return out


# ---------------------------------------------------------------------------------------- bundled
#: Cases shipped inside the package (``iortmc example NAME``); copies live in examples/cases/*.toml
#: (a test keeps them identical).
BUNDLED_CASES: dict[str, str] = {
    "intrabeam": '''\
# A 50 kV INTRABEAM-like bare-probe source in breast tissue.
# Run it with:  iortmc run intrabeam.toml -o intrabeam.h5   (or: iortmc example intrabeam)
case_format = 1
title = "INTRABEAM-like 50 kV bare probe in breast tissue"
description = """Isotropic point source with the shipped 50 kV INTRABEAM-like bare-probe spectrum \
(Spectrum.builtin("intrabeam_50kv_bare"), docs/spectra.md) at the centre of a 10 cm cube of \
50/50 glandular/adipose breast tissue, 1 mm voxels. The probe and its needle are not modelled."""
histories = 2_000_000
seed = 1

[phantom]
type = "box"
size_cm = [10.0, 10.0, 10.0]
voxel_size_cm = 0.1
material = "breast_50_50"

[source]
type = "point"
position_cm = [0.0, 0.0, 0.0]
spectrum = { builtin = "intrabeam_50kv_bare" }

[options]
scoring = "kerma"

[output]
reference_point_cm = [1.0, 0.0, 0.0]
''',
    "water50kev": '''\
# A 50 keV isotropic point source in water (the classic point-source benchmark).
case_format = 1
title = "50 keV point source in water"
description = "Monoenergetic 50 keV isotropic photon point source at the centre of a 12 cm water cube, 1 mm voxels."
histories = 2_000_000
seed = 1

[phantom]
type = "box"
size_cm = [12.0, 12.0, 12.0]
voxel_size_cm = 0.1
material = "water"

[source]
type = "point"
position_cm = [0.0, 0.0, 0.0]
spectrum = { energy_keV = 50.0 }

[options]
scoring = "kerma"

[output]
reference_point_cm = [1.0, 0.0, 0.0]
''',
    "breast_cavity": '''\
# 50 kV INTRABEAM-like source at the centre of a saline-filled cavity in breast tissue.
case_format = 1
title = "INTRABEAM-like source in a saline cavity in breast tissue"
description = """Point source with the 50 kV INTRABEAM-like bare-probe spectrum at the centre of a \
1.5 cm radius saline sphere (the surgical cavity) in a 10 cm cube of 50/50 breast tissue, 1 mm voxels."""
histories = 2_000_000
seed = 1

[phantom]
type = "box"
size_cm = [10.0, 10.0, 10.0]
voxel_size_cm = 0.1
material = "breast_50_50"

[[phantom.paint]]
shape = "sphere"
center_cm = [0.0, 0.0, 0.0]
radius_cm = 1.5
material = "saline"

[source]
type = "point"
position_cm = [0.0, 0.0, 0.0]
spectrum = { builtin = "intrabeam_50kv_bare" }

[options]
scoring = "kerma"

[output]
reference_point_cm = [1.5, 0.0, 0.0]
''',
    "pencil_slabs": '''\
# A 50 keV photon pencil beam through water / cortical bone / water slabs (depth dose).
case_format = 1
title = "50 keV pencil beam through water-bone-water slabs"
histories = 1_000_000
seed = 1

[phantom]
type = "slabs"
axis = "z"
lateral_cm = [6.0, 6.0, 6.0]
voxel_size_cm = 0.1

[[phantom.layers]]
material = "water"
thickness_cm = 2.0

[[phantom.layers]]
material = "bone_cortical_icrp"
thickness_cm = 1.0

[[phantom.layers]]
material = "water"
thickness_cm = 5.0

[source]
type = "pencil_beam"
position_cm = [0.0, 0.0, -1.0]
direction = [0.0, 0.0, 1.0]
spectrum = { energy_keV = 50.0 }

[options]
scoring = "kerma"
''',    "ioert9": '''\
# A 9 MeV IOERT electron field on water.
# Run it with:  iortmc run ioert9.toml -o ioert9.h5 --plot ioert9.png   (or: iortmc example ioert9)
case_format = 1
title = "9 MeV IOERT electron field (6 cm diameter) on water"
description = """Monoenergetic 9 MeV parallel electron beam, 6 cm diameter circular field (a first model of a 6 cm IOERT applicator: the PMMA cylinder itself is not modelled), normally incident on a 16 x 16 x 8 cm water phantom in 2 mm voxels; coupled electron-photon transport (class II condensed history)."""
histories = 200_000
seed = 1

[phantom]
type = "box"
size_cm = [16.0, 16.0, 8.0]
voxel_size_cm = 0.2
material = "water"
origin_cm = [-8.0, -8.0, 0.0]

[source]
type = "electron_beam"
energy_MeV = 9.0
field_diameter_cm = 6.0
position_cm = [0.0, 0.0, -1.0]
direction = [0.0, 0.0, 1.0]

[output]
reference_point_cm = [0.0, 0.0, 2.0]
''',
}


def bundled_case_text(name: str) -> str:
    """TOML text of a bundled case (:data:`BUNDLED_CASES`)."""
    if name not in BUNDLED_CASES:
        raise InputError(f"unknown example {name!r}; available: {', '.join(sorted(BUNDLED_CASES))}")
    return BUNDLED_CASES[name]


def bundled_case(name: str) -> Case:
    """A bundled case (``intrabeam``, ``water50kev``, ``breast_cavity``, ``pencil_slabs``, ``ioert9``)."""
    return loads_case(bundled_case_text(name), name=f"bundled case {name!r}")

