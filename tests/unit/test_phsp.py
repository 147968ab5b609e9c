"""IAEA phase-space reader, writer and PhaseSpaceSource.

Format: Capote et al., IAEA INDC(NDS)-0484 (2006). The hand-packed records below follow the
format's conventions independently of the writer: a negative particle type byte means w < 0, a
negative energy marks the first particle of a new history.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from iortmc.errors import InputError
from iortmc.sources.phsp import (PHSP_DTYPE, PhaseSpace, PhaseSpaceSource, read_iaea_header,
                                 read_iaea_phsp, write_iaea_phsp)


def _particles(n=500, seed=3, types=(1, 2, 3), z=None):
    rng = np.random.default_rng(seed)
    p = np.zeros(n, PHSP_DTYPE)
    p["type"] = rng.choice(types, n)
    p["energy"] = rng.uniform(0.005, 12.0, n)
    p["x"], p["y"] = rng.normal(0, 3, n), rng.normal(0, 3, n)
    p["z"] = rng.normal(0, 3, n) if z is None else z
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    p["u"], p["v"], p["w"] = d.T
    p["weight"] = rng.uniform(0.1, 2.0, n)
    p["new_history"] = rng.random(n) < 0.4
    p["new_history"][0] = True
    return p


def _w_from_float32(p):
    """w as the format defines it: from the stored float32 u, v and the sign of w."""
    u = p["u"].astype(np.float32).astype(np.float64)
    v = p["v"].astype(np.float32).astype(np.float64)
    return np.sign(p["w"]) * np.sqrt(np.maximum(1 - u * u - v * v, 0))


@pytest.mark.parametrize("byte_order", ["little", "big"])
def test_round_trip_of_mixed_particles(tmp_path, byte_order):
    p = _particles()
    ef = np.random.default_rng(1).normal(size=(p.size, 2)).astype(np.float32)
    el = np.arange(p.size, dtype=np.int32)[:, None] * 3 - 7
    h, d = write_iaea_phsp(tmp_path / "beam", p, original_histories=12345, extra_floats=ef,
                           extra_float_types=[1, 0], extra_longs=el, extra_long_types=[1],
                           byte_order=byte_order)
    assert h.name == "beam.IAEAheader" and d.name == "beam.IAEAphsp"
    assert d.stat().st_size == p.size * (5 + 4 * 6 + 4 * 3)
    for path in (tmp_path / "beam", h, d, str(h)):
        ps = read_iaea_phsp(path)
        q = ps.particles
        assert len(ps) == p.size and ps.original_histories == 12345
        np.testing.assert_array_equal(q["type"], p["type"])
        np.testing.assert_array_equal(q["new_history"], p["new_history"])
        for k in ("energy", "x", "y", "z", "u", "v", "weight"):
            np.testing.assert_array_equal(q[k], p[k].astype(np.float32).astype(np.float64))
        np.testing.assert_allclose(q["w"], _w_from_float32(p), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.sign(q["w"]), np.sign(p["w"]))
        np.testing.assert_array_equal(ps.extra_floats, ef)
        np.testing.assert_array_equal(ps.extra_longs, el)
        assert ps.extra_float_types == [1, 0] and ps.extra_long_types == [1]
    assert ps.header.byte_order == ("<" if byte_order == "little" else ">")
    assert ps.counts() == {name: int(np.sum(p["type"] == c))
                           for c, name in ((1, "photon"), (2, "electron"), (3, "positron"))}


def test_constants_are_written_once_and_restored(tmp_path):
    p = _particles(z=-2.5)
    p["weight"] = 1.0
    write_iaea_phsp(tmp_path / "plane", p, constant={"z": -2.5, "weight": 1.0})
    hdr = read_iaea_header(tmp_path / "plane")
    assert not hdr.stored["z"] and not hdr.stored["weight"] and hdr.stored["x"]
    assert hdr.constants == {"z": -2.5, "weight": 1.0}
    assert hdr.record_length == 5 + 4 * 4
    ps = read_iaea_phsp(tmp_path / "plane")
    assert np.all(ps.particles["z"] == -2.5) and np.all(ps.particles["weight"] == 1.0)
    # a PhaseSpace writes back with its own history count
    write_iaea_phsp(tmp_path / "copy", ps)
    assert read_iaea_phsp(tmp_path / "copy").original_histories == ps.original_histories


HEADER = """$IAEA_INDEX:
  1000   // test

$TITLE:
  hand-written header, EGS style

$FILE_TYPE:
  0

$RECORD_CONTENTS:
    1     // X is stored ?
    1     // Y is stored ?
    0     // Z is stored ?
    1     // U is stored ?
    1     // V is stored ?
    0     // W is stored ?  (some writers put 0 here although w follows from u and v)
    0     // Weight is stored ?
    0     // Extra floats stored ?
    1     // Extra longs stored ?
    2     // LATCH EGS variable stored in the extralong array [ 0]

$RECORD_CONSTANT:
   26.7000     // Constant Z

$RECORD_LENGTH:
  {reclen}

$BYTE_ORDER:
  {order}

$ORIG_HISTORIES:
  {orig}

$PARTICLES:
  {n}

$PHOTONS:
  2

$ELECTRONS:
  1
"""


def _hand_written(tmp_path, reclen=25, order=1234, orig=1000, n=3, records=None, extra=b""):
    fmt = "<" if order == 1234 else ">"
    if records is None:
        # (type, E, x, y, u, v, LATCH): z and the weight are constants, w follows from u, v
        records = [(1, -6.0, 1.0, 2.0, 0.6, 0.0, 7),   # photon, new history, w = +0.8
                   (-2, 3.5, -1.0, 0.5, 0.0, 0.28, 8),   # electron, same history, w = -0.96
                   (-1, -0.25, 0.0, 0.0, 0.0, 0.0, 9)]   # photon, new history, w = -1
    data = b"".join(struct.pack(fmt + "bfffffi", *r) for r in records) + extra
    text = HEADER.format(reclen=reclen, order=order, orig=orig, n=n)
    (tmp_path / "hand.IAEAheader").write_text(text)
    (tmp_path / "hand.IAEAphsp").write_bytes(data)
    return tmp_path / "hand"


@pytest.mark.parametrize("order", [1234, 4321])
def test_header_parsing_and_sign_conventions_of_hand_packed_records(tmp_path, order):
    base = _hand_written(tmp_path, order=order)
    hdr = read_iaea_header(base)
    assert hdr.title == "hand-written header, EGS style" and hdr.iaea_index == "1000"
    # W flagged 0 but U and V stored: w is derived (flag read as 1), no W constant is consumed
    assert hdr.stored == {"x": True, "y": True, "z": False, "u": True, "v": True, "w": True,
                          "weight": False}
    assert hdr.constants == {"z": pytest.approx(26.7), "weight": 1.0}
    assert hdr.w_derived and hdr.extra_long_types == [2] and hdr.extra_float_types == []
    assert hdr.counts == {"photon": 2, "electron": 1} and hdr.particles == 3
    ps = read_iaea_phsp(base)
    q = ps.particles
    np.testing.assert_array_equal(q["type"], [1, 2, 1])
    np.testing.assert_allclose(q["energy"], [6.0, 3.5, 0.25])
    np.testing.assert_array_equal(q["new_history"], [True, False, True])
    np.testing.assert_allclose(q["w"], [0.8, -np.sqrt(1 - 0.28**2), -1.0], atol=1e-7)
    np.testing.assert_allclose(q["z"], 26.7, rtol=1e-12)
    np.testing.assert_array_equal(q["weight"], 1.0)
    np.testing.assert_array_equal(ps.extra_longs[:, 0], [7, 8, 9])
    assert ps.n_new_histories == 2 and ps.original_histories == 1000


def test_new_history_counting(tmp_path):
    p = _particles(n=2000, seed=11)
    write_iaea_phsp(tmp_path / "a", p, original_histories=99999)
    ps = read_iaea_phsp(tmp_path / "a")
    assert ps.n_new_histories == int(p["new_history"].sum())
    assert ps.original_histories == 99999          # from $ORIG_HISTORIES, not from the flags
    assert ps.describe()["new_histories"] == ps.n_new_histories
    # without $ORIG_HISTORIES the flags give the history count
    h = tmp_path / "a.IAEAheader"
    h.write_text(h.read_text().replace("$ORIG_HISTORIES:", "$UNUSED_SECTION:"))
    assert read_iaea_phsp(tmp_path / "a").original_histories == int(p["new_history"].sum())
    # the writer's default is the flag count too
    write_iaea_phsp(tmp_path / "b", p)
    assert read_iaea_header(tmp_path / "b").original_histories == int(p["new_history"].sum())
    # max_particles reads a prefix
    assert len(read_iaea_phsp(tmp_path / "b", max_particles=10)) == 10


def test_truncated_files_are_rejected(tmp_path):
    p = _particles(n=50)
    _, d = write_iaea_phsp(tmp_path / "t", p)
    full = d.read_bytes()
    d.write_bytes(full[:-3])                                 # part of a record missing
    with pytest.raises(InputError, match=r"t\.IAEAphsp.*CHECKSUM"):
        read_iaea_phsp(tmp_path / "t")
    h = tmp_path / "t.IAEAheader"
    h.write_text(h.read_text().replace("$CHECKSUM:", "$NO_CHECKSUM:"))
    with pytest.raises(InputError, match=r"t\.IAEAphsp.*whole number of 29-byte records"):
        read_iaea_phsp(tmp_path / "t")
    d.write_bytes(full[:-29])                                # one whole record missing
    with pytest.raises(InputError, match=r"holds 49 records but the header says \$PARTICLES 50"):
        read_iaea_phsp(tmp_path / "t")
    d.unlink()
    with pytest.raises(InputError, match=r"cannot read IAEA phase-space data .*t\.IAEAphsp"):
        read_iaea_phsp(tmp_path / "t")


def test_inconsistent_record_length(tmp_path):
    base = _hand_written(tmp_path, reclen=29)
    with pytest.raises(InputError, match=r"hand\.IAEAheader.*RECORD_LENGTH is 29 bytes but "
                                         r"\$RECORD_CONTENTS implies 25"):
        read_iaea_phsp(base)


@pytest.mark.parametrize("edit, message", [
    (("$RECORD_CONTENTS:", "$RECORD_CONTENT:"), r"required section \$RECORD_CONTENTS is missing"),
    (("$BYTE_ORDER:\n  1234", "$BYTE_ORDER:\n  3412"), r"\$BYTE_ORDER must be 1234"),
    (("$PARTICLES:\n  3", "$PARTICLES:\n  three"), r"\$PARTICLES must hold numbers"),
    (("$PARTICLES:", "$PARTICLE_COUNT:"), r"required section \$PARTICLES is missing"),
    (("$FILE_TYPE:\n  0", "$FILE_TYPE:\n  1"), r"\$FILE_TYPE 1 is not supported"),
    (("    1     // X is stored ?", "    2     // X is stored ?"), r"must be 0 or 1"),
    (("    1     // Extra longs", "    2     // Extra longs"), r"must hold 11 values; got 10"),
    (("   26.7000     // Constant Z", ""), r"\$RECORD_CONSTANT must give the constant values of z"),
])
def test_bad_header_sections(tmp_path, edit, message):
    base = _hand_written(tmp_path)
    h = tmp_path / "hand.IAEAheader"
    text = h.read_text()
    assert edit[0] in text
    h.write_text(text.replace(edit[0], edit[1]))
    with pytest.raises(InputError, match=r"hand\.IAEAheader.*" + message):
        read_iaea_phsp(base)


def test_unreadable_or_foreign_files(tmp_path):
    with pytest.raises(InputError, match=r"cannot read IAEA header .*missing\.IAEAheader"):
        read_iaea_phsp(tmp_path / "missing")
    (tmp_path / "junk.IAEAheader").write_text("not a header at all\n")
    with pytest.raises(InputError, match=r"junk\.IAEAheader.*no \$SECTION"):
        read_iaea_phsp(tmp_path / "junk.IAEAphsp")


def test_bad_records_are_rejected(tmp_path):
    recs = [(7, -1.0, 0, 0, 0, 0, 0), (1, 1.0, 0, 0, 0, 0, 0), (1, 1.0, 0, 0, 0, 0, 0)]
    with pytest.raises(InputError, match=r"record 0 has particle type 7"):
        read_iaea_phsp(_hand_written(tmp_path, records=recs))
    recs = [(1, -1.0, 0, 0, 0.9, 0.9, 0), (1, 1.0, 0, 0, 0, 0, 0), (1, 1.0, 0, 0, 0, 0, 0)]
    with pytest.raises(InputError, match=r"record 0 has u\^2 \+ v\^2 = 1.62 > 1"):
        read_iaea_phsp(_hand_written(tmp_path, records=recs))
    recs = [(1, -1.0, float("nan"), 0, 0, 0, 0), (1, 1.0, 0, 0, 0, 0, 0), (1, 1.0, 0, 0, 0, 0, 0)]
    with pytest.raises(InputError, match=r"record 0 has a non-finite x"):
        read_iaea_phsp(_hand_written(tmp_path, records=recs))


def test_writer_validation(tmp_path):
    p = _particles(n=20)
    with pytest.raises(InputError, match=r"constant z=0.0 but the particles' z varies"):
        write_iaea_phsp(tmp_path / "w", p, constant={"z": 0.0})
    with pytest.raises(InputError, match=r"constant keys must be among"):
        write_iaea_phsp(tmp_path / "w", p, constant={"t": 0.0})
    q = p.copy()
    q["u"] *= 1.1
    with pytest.raises(InputError, match=r"must be a unit vector"):
        write_iaea_phsp(tmp_path / "w", q)
    q = p.copy()
    q["type"][3] = 9
    with pytest.raises(InputError, match=r"particle type must be 1-5"):
        write_iaea_phsp(tmp_path / "w", q)
    with pytest.raises(InputError, match=r"byte_order"):
        write_iaea_phsp(tmp_path / "w", p, byte_order="middle")
    with pytest.raises(InputError, match=r"structured array"):
        write_iaea_phsp(tmp_path / "w", np.zeros((3, 3)))
    with pytest.raises(InputError, match=r"extra_floats must have shape"):
        write_iaea_phsp(tmp_path / "w", p, extra_floats=np.zeros((3, 1)))


def test_phase_space_source(tmp_path):
    p = _particles(n=300, types=(1, 2, 3, 4))
    write_iaea_phsp(tmp_path / "src", p, original_histories=3000)
    with pytest.raises(InputError, match=r"neutron/proton records"):
        PhaseSpaceSource(tmp_path / "src")
    s = PhaseSpaceSource(tmp_path / "src", translate=(1.0, -2.0, 30.0), recycle=4, skip_unsupported=True)
    keep = p["type"] <= 3
    typ, e, pos, d, w, new = s.arrays()
    assert typ.dtype == np.int8 and set(np.unique(typ)) <= {1, 2, 3} and typ.size == keep.sum()
    np.testing.assert_allclose(pos[:, 2], p["z"][keep].astype(np.float32).astype(float) + 30.0, rtol=1e-12)
    np.testing.assert_allclose(pos[:, 0], p["x"][keep].astype(np.float32).astype(float) + 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(new, p["new_history"][keep])
    desc = s.describe()
    assert desc["records_dropped"] == int((~keep).sum()) and desc["recycle"] == 4
    assert desc["histories_per_pass"] == 12000 == s.histories_per_pass
    assert desc["translate_cm"] == [1.0, -2.0, 30.0]
    assert "PhaseSpaceSource(" in repr(s)
    ps = read_iaea_phsp(tmp_path / "src")
    assert isinstance(ps, PhaseSpace)
    for bad in (0, 1.5, True, -1):
        with pytest.raises(InputError, match=r"recycle must be an integer >= 1"):
            PhaseSpaceSource(ps, recycle=bad, skip_unsupported=True)
    for bad in ((0, 0), (0, 0, float("inf")), "abc"):
        with pytest.raises(InputError, match=r"translate must be 3"):
            PhaseSpaceSource(ps, translate=bad, skip_unsupported=True)
    hot = ps.particles.copy()
    hot["energy"][np.argmax(hot["type"] <= 3)] = 25.0
    with pytest.raises(InputError, match=r"energies must lie in \(0, 20\] MeV"):
        PhaseSpaceSource(PhaseSpace(hot, 10), skip_unsupported=True)
