"""Write the small synthetic CT series and RT Structure Set used by ../ct_intrabeam.toml.

A 8 x 8 x 6 cm block (0.25 cm voxels) of soft tissue (40 HU) under 1 cm of air, with a 1 cm
cortical-bone slab (1000 HU) at the bottom, and an RT Structure Set with one ROI, "cavity": circles
of 1.5 cm radius about (0, 0, 3) cm on every slice they cut (a sphere, contoured slice by slice).
Run it again to rewrite the files: python make_ct.py
"""

from pathlib import Path

import numpy as np

from iortmc import dicom

HERE = Path(__file__).resolve().parent
VOXEL = 0.25
NX = NY = 32
NZ = 24
ORIGIN = (-4.0, -4.0, 0.0)


def main():
    hu = np.full((NZ, NY, NX), 40.0)
    z = ORIGIN[2] + (np.arange(NZ) + 0.5) * VOXEL
    hu[z < 1.0] = -1000.0
    hu[z > 5.0] = 1000.0
    ct_dir = HERE / "ct"
    ct_dir.mkdir(exist_ok=True)
    for old in ct_dir.glob("*.dcm"):
        old.unlink()
    dicom.write_ct_series(ct_dir, hu, VOXEL, ORIGIN, frame_of_reference_uid="1.2.826.0.1.3680043.10.1234.1",
                          study_instance_uid="1.2.826.0.1.3680043.10.1234.2",
                          series_instance_uid="1.2.826.0.1.3680043.10.1234.3")
    ct = dicom.read_ct_series(ct_dir)
    contours = []
    for zc in z:
        r2 = 1.5 ** 2 - (zc - 3.0) ** 2
        if r2 <= 0.05:
            continue
        a = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        r = np.sqrt(r2)
        contours.append(np.column_stack([r * np.cos(a), r * np.sin(a), np.full(a.size, zc)]))
    dicom.write_rtstruct(HERE / "rtstruct.dcm", {"cavity": contours}, ct)


if __name__ == "__main__":
    main()
