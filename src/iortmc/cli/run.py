"""The ``iortmc`` sub-commands that run and inspect simulations.

``iortmc run CASE.toml -o result.h5``     run a TOML case file (docs/case-format.md)
``iortmc show CASE.toml -o geometry.png`` draw the geometry of a case file before running it
``iortmc info result.h5``                 describe a result file
``iortmc plot result.h5 --depth-dose out.png | --radial out.png | --slice z=0 out.png | ...``
``iortmc example NAME [-o DIR]``          run a bundled case, write NAME.h5 and PNG figures
``iortmc validate [--quick] [-o DIR]``    run the validation suite, write a Markdown report

:func:`add_run_commands` is called by :func:`iortmc.cli.build_parser`. Errors in user input are
:class:`~iortmc.errors.InputError` (printed by ``iortmc.cli.main`` as ``iortmc: error: ...``, exit 2).
Full documentation: docs/cli.md.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["add_run_commands", "summary_lines", "energy_balance_lines", "ProgressBar", "EXAMPLES"]

#: Bundled examples: name -> one-line description (cases in iortmc.cli.case.BUNDLED_CASES).
EXAMPLES = {
    "intrabeam": "50 kV INTRABEAM-like bare probe in breast tissue (radial dose, isodose)",
    "water50kev": "50 keV point source in water (radial dose, D r^2)",
    "breast_cavity": "50 kV INTRABEAM-like source in a 1.5 cm saline cavity in breast tissue",
    "pencil_slabs": "50 keV pencil beam through water / bone / water slabs (depth dose)",
    "ioert9": "9 MeV IOERT electron field (6 cm) on water (depth dose, R90/R50/Rp)",
}



# ---------------------------------------------------------------------------------------- progress
class ProgressBar:
    """``progress(done, total)`` callback: a tqdm bar if tqdm is installed, else one updating line.

    Writes to stderr. Use as a context manager (closes the bar).
    """

    def __init__(self, label: str = "histories", enabled: bool = True, stream=None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._bar = None
        self._done = 0
        self._t0 = time.perf_counter()
        self._last = -1.0
        try:
            import tqdm  # noqa: F401
            self._tqdm = True
        except ImportError:
            self._tqdm = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._tqdm:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=int(total), unit=" hist", unit_scale=True, file=self.stream,
                                 desc=self.label, dynamic_ncols=True)
            self._bar.update(int(done) - self._done)
        else:
            now = time.perf_counter()
            if done < total and now - self._last < 0.5:
                return
            self._last = now
            el = now - self._t0
            rate = done / el if el > 0 else 0.0
            pct = 100.0 * done / total if total else 100.0
            eta = (total - done) / rate if rate > 0 else float("nan")
            self.stream.write(f"\r{self.label}: {done:,}/{total:,} ({pct:5.1f} %) {rate:,.0f}/s"
                              f"{'' if math.isnan(eta) else f', {eta:.0f} s left'}   ")
            self.stream.flush()
        self._done = int(done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and not self._tqdm and self._done:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---------------------------------------------------------------------------------------- summary
def energy_balance_lines(eb: dict | None, scoring: str | None) -> list[str]:
    """Energy-balance lines of the summary (MeV over all histories and percent of the emitted energy)."""
    if not eb or not eb.get("emitted"):
        return ["energy balance: not recorded"]
    e0 = eb["emitted"]

    def pct(v):
        return f"{v:14.6g} MeV  ({100.0 * v / e0:7.3f} %)"

    lines = ["energy balance (all histories):",
             f"  emitted by the source       {e0:14.6g} MeV",
             f"  escaped from the phantom    {pct(eb.get('escaped', 0.0))}"]
    if "scored" in eb:
        lines.append(f"  scored (sum of dose x mass) {pct(eb['scored'])}")
    if scoring == "analog" or eb.get("deposited", 0.0) > 0:
        dep = eb.get("deposited", 0.0)
        below = eb.get("below_cutoff", 0.0)
        lines.append(f"  deposited                   {pct(dep)}")
        lines.append(f"  below cut-offs (local)      {pct(below)}")
        resid = e0 - (dep + below + eb.get("escaped", 0.0))
        lines.append(f"  emitted - (deposited + below cut-off + escaped) = {resid:.3g} MeV "
                     f"(relative {resid / e0:.2e}; exact balance expected)")
    else:
        absorbed = e0 - eb.get("escaped", 0.0)
        lines.append(f"  absorbed (emitted - escaped) {pct(absorbed)}")
        if "scored" in eb and absorbed > 0:
            lines.append(f"  kerma estimate / absorbed energy = {eb['scored'] / absorbed:.4f} "
                         f"(1 within statistics: the kerma estimator is unbiased, not exact)")
    return lines


def summary_lines(result, reference_point=None) -> list[str]:
    """The text summary printed after ``iortmc run`` / ``iortmc example`` and by ``iortmc info``."""
    from .. import analysis

    ph = result.phantom
    t = result.timing
    md = result.metadata
    opts = result.options
    lines = []
    title = md.get("case_title")
    if title:
        lines.append(f"case: {title}")
    src = result.source or {}
    spec = src.get("spectrum", {}) if isinstance(src, dict) else {}
    lines.append(f"source: {src.get('type', '?')} at {src.get('position_cm', '?')} cm, spectrum "
                 f"{spec.get('name', '?')!r} (mean {1e3 * spec.get('mean_energy_MeV', float('nan')):.4g} keV)")
    lines.append(f"phantom: {tuple(ph.shape)} voxels [z, y, x] of {ph.voxel_size} cm, materials "
                 f"{', '.join(m.name for m in ph.materials)}")
    lines.append(f"histories: {result.histories:,}   seed: {result.seed}   batches: {result.batches}   "
                 f"scoring: {opts.get('scoring', '?')}   threads: {opts.get('threads', '?')}")
    wall, comp = t.get("wall_s", math.nan), t.get("compile_s", math.nan)
    rate = md.get("histories_per_s")
    tline = f"time: {wall:.2f} s wall ({comp:.2f} s compiling/loading kernels), {t.get('cpu_s', math.nan):.2f} s CPU"
    if rate:
        tline += f";  transport {rate:,.0f} histories/s"
    lines.append(tline)
    cal = result.calibration
    hpu = float(cal["histories_per_unit"]) if cal else None
    cunit = f"Gy/{cal['unit']}" if cal else None

    def dose_text(d, u):
        t = f"{d:.4e} Gy/history (+- {100 * u:.2g} %)"
        return t + (f" = {d * hpu:.4g} {cunit}" if cal else "")

    try:
        m = analysis.dose_max(result)
        lines.append(f"maximum dose in tissue: {dose_text(m.dose, m.rel_unc)} at (x, y, z) = "
                     f"({m.point_cm[0]:.3g}, {m.point_cm[1]:.3g}, {m.point_cm[2]:.3g}) cm, voxel [z, y, x] = "
                     f"{list(m.voxel_zyx)}")
    except InputError as exc:
        lines.append(f"maximum dose in tissue: not available ({exc})")
    src_type = src.get("type") if isinstance(src, dict) else None
    if src_type in ("PencilBeam", "ElectronBeam"):
        try:
            dd = analysis.depth_dose(result, axis="beam")
            sp = dd.surface_cm
            line = f"tissue surface on the beam axis at (x, y, z) = ({sp[0]:.3g}, {sp[1]:.3g}, {sp[2]:.3g}) cm"
            if src_type == "ElectronBeam":
                r = analysis.ranges(dd.depth_cm, dd.dose)
                line += (f"; from it along the beam axis: R90 = {r['R90']:.3g} cm, R50 = {r['R50']:.3g} cm, "
                         f"Rp = {r['Rp']:.3g} cm")
            lines.append(line)
        except InputError as exc:
            lines.append(f"depth dose on the beam axis: not available ({exc})")
    if reference_point is not None:
        try:
            d, u = analysis.point_dose(result, reference_point)
            p = tuple(float(v) for v in reference_point)
            lines.append(f"dose at the reference point (x, y, z) = ({p[0]:g}, {p[1]:g}, {p[2]:g}) cm: {dose_text(d, u)}")
        except InputError as exc:
            lines.append(f"dose at reference point: not available ({exc})")
    if cal:
        lines.append(f"calibration: {cal.get('measured_Gy_per_unit', float('nan')):.5g} {cunit} at "
                     f"{cal.get('reference', '?')}: {hpu:.5g} histories per {cal['unit']}")
    rx = md.get("prescription")
    if isinstance(rx, dict) and rx.get("line"):
        lines.append(str(rx["line"]))
    lines.extend(energy_balance_lines(result.energy_balance, opts.get("scoring")))
    return lines


def _print_lines(lines, stream=None):
    stream = stream if stream is not None else sys.stdout
    for line in lines:
        print(line, file=stream)


def _reference_from_metadata(result):
    case = result.metadata.get("case")
    if isinstance(case, dict):
        ref = (case.get("output") or {}).get("reference_point_cm")
        if isinstance(ref, list) and len(ref) == 3:
            return tuple(float(v) for v in ref)
    src = result.source or {}
    pos = src.get("position_cm") if isinstance(src, dict) else None
    if src.get("type") == "PointSource" and pos is not None:
        p = (pos[0] + 1.0, pos[1], pos[2])
        return p if result.phantom.contains(p) else None
    return None


# ---------------------------------------------------------------------------------------- run
def _run_case(case, args, label="iortmc", **extra):
    quiet = getattr(args, "quiet", False)
    if not quiet:
        print(f"{label}: {case.title}: {args.histories or case.histories:,} histories", file=sys.stderr)
    with ProgressBar(enabled=not quiet) as bar:
        result = case.run(progress=bar if not quiet else False, histories=args.histories, seed=args.seed,
                          threads=args.threads, batches=getattr(args, "batches", None),
                          chunk=getattr(args, "chunk", None), **extra)
    return result


def _cmd_run(args) -> int:
    from .case import load_case

    case = load_case(args.case)
    out = args.output
    if out is None:  # [output] file (relative to the case file), else the case file name with .h5
        out = str(case.base_dir / case.output_file) if case.output_file else str(Path(args.case).with_suffix(".h5"))
    _check_writable(out, "-o/--output")
    if args.checkpoint_every or args.resume:
        # the run keeps OUT up to date (checkpoints, then the finished result with its checkpoint
        # record), so the case description goes in from the start and OUT is not written again here
        if args.resume and not os.path.exists(out) and not getattr(args, "quiet", False):
            print(f"iortmc: {out} does not exist: starting the run from the beginning", file=sys.stderr)
        result = _run_case(case, args, checkpoint=out, checkpoint_every=args.checkpoint_every,
                           resume=args.resume, metadata=_case_metadata(case))
        if result.calibration is not None or "prescription" in result.metadata:
            result.save(out)   # the finished result with the calibration and prescription added
    else:
        from ..transport.checkpoint import refuse_unfinished

        refuse_unfinished(out)   # never throw away the work of an interrupted run
        result = _run_case(case, args)
        result.save(out)
    _print_lines(summary_lines(result, case.default_reference_point()))
    print(f"wrote {out}")
    if args.plot:
        _try_plot(lambda: _default_figure(result, case.default_reference_point(), args.plot), args.plot)
    return 0


def _case_metadata(case) -> dict:
    """The case description that :meth:`iortmc.cli.case.Case.run` adds to a result's metadata."""
    from .case import _json_safe

    meta = {"case_title": case.title}
    if case.description:
        meta["case_description"] = case.description
    meta["case"] = _json_safe(case.data)
    return meta


def _cmd_show(args) -> int:
    from ..analysis import plot
    from .case import load_case

    case = load_case(args.case)
    plot.require_matplotlib()
    _check_writable(args.output, "-o/--output")
    case.show(args.output)
    print(f"wrote {args.output}")
    return 0


def _check_writable(path, what):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"{what}: directory {directory!r} does not exist (for {path!r})")


def _try_plot(fn, what) -> bool:
    """Run a plotting function; if matplotlib is missing print how to get it and carry on."""
    try:
        fn()
    except ImportError as exc:
        print(f"iortmc: note: no figure written ({what}): {exc}", file=sys.stderr)
        return False
    print(f"wrote {what}")
    return True


def _default_figure(result, ref, path):
    from ..analysis import plot

    src = result.source or {}
    if src.get("type") in ("PencilBeam", "ElectronBeam"):
        return plot.depth_dose(result, path, axis="beam")
    center = tuple(src.get("position_cm", (0.0, 0.0, 0.0)))
    return plot.radial_dose(result, path, center=center)


# ---------------------------------------------------------------------------------------- info
def _cmd_info(args) -> int:
    from ..results import dose as _result

    res = _result.load(args.result)
    import h5py

    with h5py.File(args.result, "r") as f:
        a = f.attrs
        print(f"file: {args.result}")
        print(f"type: {a.get('file_type')}  format {a.get('format_version')}  written by iortmc "
              f"{a.get('iortmc_version')} on {a.get('created_utc')}")
        if "checkpoint" in f:
            c = f["checkpoint"].attrs
            state = ("finished" if bool(c["complete"]) else
                     "UNFINISHED (continue with iortmc run CASE -o FILE --resume, or iortmc.resume(FILE))")
            print(f"checkpoint: {state}: {int(c['batches_done'])} of {int(c['batches'])} batches "
                  f"({int(c['histories']):,} histories requested), chunk {int(c['chunk'])}, every "
                  f"{int(c['checkpoint_every'])} batches")
    ref = tuple(args.point) if args.point else _reference_from_metadata(res)
    _print_lines(summary_lines(res, ref))
    print("materials:")
    for i, m in enumerate(res.phantom.materials):
        n = int(np.sum(res.phantom.index == i))
        print(f"  {i}: {m.name:20s} {m.density:8.4g} g/cm3  I = {m.I_eV:6.1f} eV  {n} voxels")
    print(f"extent: x {res.phantom.extent[0]} y {res.phantom.extent[1]} z {res.phantom.extent[2]} cm")
    return 0


# ---------------------------------------------------------------------------------------- plot
def _parse_slice(text: str):
    if "=" not in text:
        raise InputError(f"--slice must be AXIS=VALUE (e.g. z=0), got {text!r}")
    axis, value = text.split("=", 1)
    axis = axis.strip().lower()
    if axis not in ("x", "y", "z"):
        raise InputError(f"--slice axis must be x, y or z, got {axis!r} in {text!r}")
    try:
        v = float(value)
    except ValueError:
        raise InputError(f"--slice value must be a number in cm, got {value!r} in {text!r}") from None
    return axis, v


def _cmd_plot(args) -> int:
    from ..analysis import plot
    from ..results.dose import load

    wanted = [args.depth_dose, args.radial, args.slice, args.profile, args.compare]
    if not any(wanted):
        raise InputError("iortmc plot: give at least one of --depth-dose OUT, --radial OUT, "
                         "--slice AXIS=VALUE OUT, --profile AXIS OUT, --compare OTHER.h5 OUT")
    plot.require_matplotlib()
    res = load(args.result)
    src = res.source or {}
    center = tuple(args.center) if args.center else tuple(src.get("position_cm", (0.0, 0.0, 0.0)))
    norm = None if args.absolute else "max"
    if args.depth_dose:
        through = tuple(args.through) if args.through else None
        _check_writable(args.depth_dose, "--depth-dose")
        plot.depth_dose(res, args.depth_dose, axis=args.axis, through=through, normalize=norm)
        print(f"wrote {args.depth_dose}")
    if args.radial:
        _check_writable(args.radial, "--radial")
        plot.radial_dose(res, args.radial, center=center, r2=args.r2)
        print(f"wrote {args.radial}")
    if args.slice:
        axis, value = _parse_slice(args.slice[0])
        _check_writable(args.slice[1], "--slice")
        plot.isodose(res, args.slice[1], axis=axis, value=value)
        print(f"wrote {args.slice[1]}")
    if args.profile:
        axis = args.profile[0].lower()
        _check_writable(args.profile[1], "--profile")
        plot.profile(res, args.profile[1], axis=axis, point=center, normalize=norm)
        print(f"wrote {args.profile[1]}")
    if args.compare:
        other = load(args.compare[0])
        _check_writable(args.compare[1], "--compare")
        kind = args.kind or ("depth" if src.get("type") in ("PencilBeam", "ElectronBeam") else "radial")
        plot.compare(res, other, args.compare[1], kind=kind, axis=args.axis, center=center, point=center,
                     labels=(Path(args.result).stem, Path(args.compare[0]).stem), normalize=None)
        print(f"wrote {args.compare[1]}")
    return 0


# ---------------------------------------------------------------------------------------- example
def _cmd_example(args) -> int:
    from .case import bundled_case

    if args.list or not args.name:
        print("bundled examples (iortmc example NAME [-o DIR] [--histories N]):")
        for name, text in EXAMPLES.items():
            print(f"  {name:15s} {text}")
        return 0
    case = bundled_case(args.name)
    outdir = Path(args.output_dir)
    if not outdir.is_dir():
        try:
            outdir.mkdir(parents=True)
        except OSError as exc:
            raise InputError(f"-o/--output-dir: cannot create directory {str(outdir)!r}: "
                             f"{exc.strerror or exc}") from None
    h5 = outdir / f"{args.name}.h5"
    result = _run_case(case, args, label=f"iortmc example {args.name}")
    result.save(h5)
    ref = case.default_reference_point()
    _print_lines(summary_lines(result, ref))
    print(f"wrote {h5}")
    png = outdir / f"{args.name}.png"
    if _try_plot(lambda: _default_figure(result, ref, png), str(png)):
        from ..analysis import plot

        src = result.source or {}
        if src.get("type") in ("PencilBeam", "ElectronBeam"):
            iso = outdir / f"{args.name}_isodose_y0.png"
            _try_plot(lambda: plot.isodose(result, iso, axis="y", value=0.0, max_rel_unc=0.3), str(iso))
        else:
            z0 = float(src.get("position_cm", [0, 0, 0])[2])
            iso = outdir / f"{args.name}_isodose_z0.png"
            _try_plot(lambda: plot.isodose(result, iso, axis="z", value=z0, reference=ref,
                                           levels=(500, 200, 100, 50, 20, 10), max_rel_unc=0.3), str(iso))
    return 0


# ---------------------------------------------------------------------------------------- validate
def _cmd_validate(args) -> int:
    from . import validate

    report = validate.run(args.output_dir, quick=args.quick, threads=args.threads,
                          progress=not args.quiet)
    print(report.table_text())
    print(f"wrote {report.markdown_path}")
    n_fail = sum(not c.passed for c in report.checks)
    print(f"{len(report.checks) - n_fail} of {len(report.checks)} checks passed")
    return 0 if n_fail == 0 else 1


# ---------------------------------------------------------------------------------------- parser
def _positive_int(text):
    try:
        v = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise InputError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise InputError(f"expected a positive integer, got {text!r}")
    return v


_positive_int.__name__ = "positive integer"  # argparse names the type in its error message


def _run_options(p, histories_help):
    p.add_argument("--histories", "-n", type=_positive_int, default=None, help=histories_help)
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the case's seed)")
    p.add_argument("--threads", "-j", type=int, default=None, help="worker threads (default: all cores)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def add_run_commands(subparsers) -> None:
    """Add ``run``, ``show``, ``info``, ``plot``, ``example`` and ``validate`` to the ``iortmc`` parser."""
    p = subparsers.add_parser("run", help="run a TOML case file and write an HDF5 result",
                              description="Run a simulation described by a TOML case file "
                                          "(docs/case-format.md) and write the result (HDF5).")
    p.add_argument("case", help="case file (.toml)")
    p.add_argument("-o", "--output", help="result file (.h5); default: [output] file of the case, or "
                                          "the case name with .h5")
    _run_options(p, "number of histories (default: the case's)")
    p.add_argument("--batches", type=_positive_int, default=None, help="number of batches")
    p.add_argument("--chunk", type=_positive_int, default=None,
                   help="batches per chunk (default 10): the unit of the tally reduction and of checkpoints")
    p.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="K",
                   help="replace OUT with a checkpoint every K batches (a killed run loses at most K "
                        "batches; continue it with --resume)")
    p.add_argument("--resume", action="store_true",
                   help="continue the checkpointed run in OUT (same case, seed, histories and batches); "
                        "the result equals an uninterrupted run bit for bit")
    p.add_argument("--plot", metavar="PNG", help="also write the default figure (radial dose for point "
                                                 "sources, depth dose for beams)")
    p.set_defaults(func=_cmd_run)

    p = subparsers.add_parser("show", help="draw the geometry of a case file (no transport)",
                              description="Draw three orthogonal material slices through the source or the "
                                          "beam axis of a case file, with the applicator and shielding "
                                          "outlined, the source position and the beam direction; no "
                                          "particle is transported.")
    p.add_argument("case", help="case file (.toml)")
    p.add_argument("-o", "--output", default="geometry.png", help="figure file (default geometry.png)")
    p.set_defaults(func=_cmd_show)

    p = subparsers.add_parser("info", help="describe a result file")
    p.add_argument("result", help="result file (.h5)")
    p.add_argument("--point", nargs=3, type=float, metavar=("X", "Y", "Z"),
                   help="also report the dose at this point (cm)")
    p.set_defaults(func=_cmd_info)

    p = subparsers.add_parser("plot", help="plot a result file (needs matplotlib)",
                              description="Write figures of a result: depth dose, radial dose, "
                                          "isodose slice, profile, comparison with another result.")
    p.add_argument("result", help="result file (.h5)")
    p.add_argument("--depth-dose", metavar="OUT", help="depth dose along --axis through --through")
    p.add_argument("--radial", metavar="OUT", help="radial dose about --center (log scale)")
    p.add_argument("--r2", action="store_true", help="with --radial: plot D(r) r^2 on a linear scale")
    p.add_argument("--slice", nargs=2, metavar=("AXIS=VALUE", "OUT"),
                   help="isodose lines over the phantom in a plane, e.g. --slice z=0 slice.png")
    p.add_argument("--profile", nargs=2, metavar=("AXIS", "OUT"), help="profile along AXIS through --center")
    p.add_argument("--compare", nargs=2, metavar=("OTHER.h5", "OUT"), help="compare with another result")
    p.add_argument("--kind", choices=("depth", "radial", "profile"), help="curve type for --compare")
    p.add_argument("--axis", default="z", choices=("x", "y", "z"), help="beam axis for --depth-dose")
    p.add_argument("--through", nargs=2, type=float, metavar=("A", "B"),
                   help="line position across the axis (cm; (x, y) for axis z)")
    p.add_argument("--center", nargs=3, type=float, metavar=("X", "Y", "Z"),
                   help="centre for --radial / point for --profile (default: the source position)")
    p.add_argument("--absolute", action="store_true", help="Gy per history instead of percent of maximum")
    p.set_defaults(func=_cmd_plot)

    p = subparsers.add_parser("example", help="run a bundled example case",
                              description="Run a bundled case at its default size; write NAME.h5 and "
                                          "PNG figures into the output directory.")
    p.add_argument("name", nargs="?", choices=sorted(EXAMPLES), help="example name")
    p.add_argument("-o", "--output-dir", default=".", help="output directory (default: current)")
    p.add_argument("--list", action="store_true", help="list the examples")
    _run_options(p, "number of histories (default: the example's)")
    p.set_defaults(func=_cmd_example)

    p = subparsers.add_parser("validate", help="run the validation suite and write a report",
                              description="Compare iortmc with reference data (NIST, ESTAR, analytic "
                                          "attenuation, energy balance, point-source falloff, electron depth dose) and write a "
                                          "Markdown report with figures. Exit status 1 if a check fails.")
    p.add_argument("--quick", action="store_true", help="fewer histories (under 2 minutes)")
    p.add_argument("-o", "--output-dir", default="iortmc-validation", help="report directory")
    p.add_argument("--threads", "-j", type=int, default=None, help="worker threads")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_validate)
