"""Deterministic synthetic demo cohort: CD19 CAR T-cell therapy in refractory JDM.

Every value this module produces is SYNTHETIC: no row describes a real patient. The shapes and
ranges follow published sources; docs/synthetic.md lists every modelled quantity, its range and the
section of shared/domain/clinical-rules.md it follows.

Generation is vectorised with numpy across the patients of a block: loops run over parameters,
visits and event kinds, never over patients or observations. Patients are drawn in fixed blocks of
`BLOCK` patients, each block from its own random stream seeded by (seed, block number), so a
patient's data depend only on the seed and the patient's number. The 24-patient demo cohort is the
first 24 patients of a 10,000-patient cohort with the same seed, and `chunk_size` only decides how
the output is cut into frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from carta import dictionary, schema

SYNTHETIC_SOURCE_ID = "synthetic"
DEFAULT_PATIENTS = 24
DEFAULT_SEED = 2024

COHORT = "Synthetic demo"
DIAGNOSIS = "Juvenile dermatomyositis"
PRODUCT = "Autologous CD19 CAR T (4-1BB, lentiviral)"
TABLES = ("patients", "observations", "events", "adverse_events", "imaging")

# Patients drawn from one random stream; a multiple of len(RESPONSE_PATTERN).
BLOCK = 240

# --- visit schedule (study days; day 0 = infusion) ------------------------------------------------
# One column per scheduled lab visit: nominal day and the half-width of its uniform jitter. The
# jitters never let two neighbouring visits fall on the same day. Column 0 (screening) is placed
# 1-5 days before the withdrawal of immunosuppression and column 1 (baseline) on day -7 or -6,
# before lymphodepletion; both replace their nominal day.
# fmt: off
_SCHEDULE = np.array([
    (-28, 0), (-6, 0), (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0),      # screening .. day 5
    (7, 1), (10, 1), (14, 1), (17, 1), (21, 2), (28, 3), (35, 3), (42, 3),  # inpatient, early
    (60, 5), (75, 5), (90, 7), (120, 7), (150, 7),                          # months 2-5
    (180, 10), (210, 10), (240, 10), (270, 10), (300, 10), (330, 10), (365, 10),
])
# fmt: on
NOMINAL_DAYS = _SCHEDULE[:, 0]
_JITTER = _SCHEDULE[:, 1]
_K = len(NOMINAL_DAYS)
_COL = {int(d): i for i, d in enumerate(NOMINAL_DAYS)}
_BASELINE = 1
_FIRST_OUTPATIENT = _COL[21]  # from here on a whole visit can be missed
# Assessment visits (scores): Baseline, M1, M3, M6, M8, M12.
ASSESSMENT_DAYS = (-6, 28, 90, 180, 240, 365)
_ASSESS = np.array([_BASELINE, *(_COL[d] for d in ASSESSMENT_DAYS[1:])])
# The last visit (= follow_up_days) and how often each is the last.
_LAST = np.array([_COL[d] for d in (180, 210, 240, 270, 300, 365)])
_LAST_P = np.array([0.10, 0.05, 0.60, 0.05, 0.05, 0.15])
# A relapsing patient is followed to M8 or M12, so an assessment shows the relapse.
_LAST_RELAPSE = np.array([_COL[d] for d in (240, 365)])
_LAST_RELAPSE_P = np.array([0.75, 0.25])
# Parameters not measured at every visit.
_ALL_COLS = np.arange(_K)
_CART_COLS = np.array([_COL[d] for d in (2, 4, 7, 10, 14, 17, 21, 28, 42, 60, 90, 120, 180, 240,
                                          300, 365)])  # fmt: skip
_CD19_COLS = np.array([0, 1] + [_COL[d] for d in (0, 2, 5, 7, 14, 21, 28, 42, 60, 75, 90, 120,
                                                  150, 180, 210, 240, 270, 300, 330,
                                                  365)])  # fmt: skip
_IGG_COLS = np.array([0] + [_COL[d] for d in (0, 28, 60, 90, 120, 150, 180, 210, 240, 270, 300,
                                              330, 365)])  # fmt: skip
# Cytopenias are graded on the values after lymphodepletion starts (day -5) up to M3.
CYTOPENIA_WINDOW = (0, 97)  # study days of those values
_CYTOPENIA_COLS = (NOMINAL_DAYS > -5) & (NOMINAL_DAYS <= 90)

P_MISSED_VISIT = 0.05  # an outpatient visit (day >= 21, not the last) missed entirely
P_MISSING_VALUE = 0.02  # one analyte missing at a lab visit that is not an assessment visit
P_MISSING_CORE = (0.05, 0.12)  # one core-set measure missing at baseline / at later assessments

# Assay limits: a modelled value below the limit is stored as value = limit with qualifier '<'.
LLOQ = {"CRP": 0.5, "CART": 0.5, "CD19": 1.0}
DECIMALS = {
    "CK": 0, "LDH": 0, "ALDOLASE": 1, "AST": 0, "ALT": 0, "CRP": 1, "FERRITIN": 0, "HGB": 1,
    "ANC": 2, "PLT": 0, "LYMPH": 2, "CART": 2, "CD19": 1, "IGG": 1, "CMAS": 0, "MMT8": 0,
    "PGA": 1, "PARENT_GA": 1, "CHAQ": 3, "CAT_ACT": 0, "CAT_DMG": 0, "DAS_SKIN": 0,
    "DAS_MUSCLE": 0, "DAS": 0, "EXTRAMUSC": 1,
}  # fmt: skip

# Muscle enzymes: exponent of the CK multiple of ULN, resolved level as a fraction of the ULN
# (low, high), and speed of the fall relative to the patient's enzyme time constant.
_ENZYMES = {
    "CK": (1.0, 0.25, 0.65, 1.0),
    "LDH": (0.45, 0.65, 0.95, 1.5),
    "ALDOLASE": (0.60, 0.35, 0.85, 1.2),
    "AST": (0.55, 0.45, 0.90, 0.8),
    "ALT": (0.40, 0.30, 0.70, 0.8),
}
# The 2016 ACR/EULAR core set besides the enzyme (clinical-rules §3.1) and how often each is the
# one missing at a visit that misses one.
CORE_SET = ("PGA", "PARENT_GA", "CHAQ", "EXTRAMUSC", "MMT8")
_CORE_MISSING_P = np.array([0.10, 0.30, 0.30, 0.15, 0.15])
SCORES = (
    "CMAS",
    "MMT8",
    "PGA",
    "PARENT_GA",
    "CHAQ",
    "CAT_ACT",
    "CAT_DMG",
    "DAS_SKIN",
    "DAS_MUSCLE",
    "DAS",
    "EXTRAMUSC",
)

# --- vocabularies ---------------------------------------------------------------------------------
AUTOANTIBODIES = ("anti-NXP2", "anti-TIF1-gamma", "anti-MDA5", "anti-Mi-2", "none detected")
_AUTOANTIBODY_P = np.array([0.25, 0.30, 0.10, 0.10, 0.25])
PRIOR_THERAPIES = (
    "Glucocorticoids, methotrexate, IVIG, rituximab",
    "Glucocorticoids, methotrexate, mycophenolate mofetil, rituximab",
    "Glucocorticoids, methotrexate, ciclosporin, IVIG, rituximab",
    "Glucocorticoids, methotrexate, hydroxychloroquine, JAK inhibitor, IVIG",
    "Glucocorticoids, methotrexate, cyclophosphamide, rituximab, JAK inhibitor",
)
# Per group of 12 consecutive patients: 9 complete responders, 2 partial responders, 1 relapse.
COMPLETE, PARTIAL, RELAPSE = 0, 1, 2
RESPONSE_PATTERN = (COMPLETE,) * 9 + (PARTIAL,) * 2 + (RELAPSE,)

INFECTIONS = (
    "Upper respiratory infection",
    "Urinary tract infection",
    "Otitis media",
    "Lung infection",
    "Enterocolitis infectious",
)
_INFECTION_P = np.array([0.45, 0.15, 0.12, 0.18, 0.10])

MRI_REGIONS = ("quadriceps", "hamstrings", "adductors", "gluteal")
_MRI_REGION_WEIGHT = np.array([1.0, 0.8, 0.9, 0.7])
_MRI_SIDES = ("left", "right")
_MRI_FINDINGS = ("muscle oedema", "fascial oedema")
_MRI_SCALES = ("muscle oedema 0-2", "fascial oedema 0-1")
_N_SITES = len(MRI_REGIONS) * len(_MRI_SIDES)


def _mri_summary(count: int, top: int, fascial: int) -> str:
    text = "Thigh and pelvis STIR MRI: "
    if count == 0:
        text += "no muscle oedema"
    else:
        text += f"muscle oedema in {count} of {_N_SITES} muscle groups (maximum grade {top})"
    return text + ("; fascial oedema present." if fascial else "; no fascial oedema.")


# Indexed by (count * 3 + maximum grade) * 2 + fascial.
_MRI_SUMMARIES = tuple(
    _mri_summary(c, g, f) for c in range(_N_SITES + 1) for g in range(3) for f in range(2)
)


@cache
def _parameters() -> pd.DataFrame:
    return dictionary.parameters().sort_values("sort").set_index("code")


def _code(code: str) -> int:
    return int(_parameters().index.get_loc(code))


# String columns stored as integer codes into these tuples (-1 = missing).
@cache
def _lookups() -> dict[tuple[str, str], tuple]:
    params = _parameters()
    return {
        ("patients", "sex"): ("M", "F"),
        ("patients", "autoantibody"): AUTOANTIBODIES,
        ("patients", "prior_therapies"): PRIOR_THERAPIES,
        ("observations", "code"): tuple(params.index),
        ("observations", "unit"): tuple(params["unit"]),
        ("observations", "specimen"): ("blood", "bone_marrow"),
        ("observations", "qualifier"): ("<",),
        ("observations", "note"): ("Bone marrow aspirate.",),
        ("imaging", "region"): MRI_REGIONS,
        ("imaging", "finding"): _MRI_FINDINGS,
        ("imaging", "side"): _MRI_SIDES,
        ("imaging", "scale"): _MRI_SCALES,
        ("imaging", "summary"): _MRI_SUMMARIES,
    }


_CONSTANTS = {
    "patients": {"cohort": COHORT, "diagnosis": DIAGNOSIS, "indication": "JDM", "product": PRODUCT,
                 "follow_up_reported": None, "synthetic": True, "race": None},
    "observations": {"timing": None},
    "imaging": {"modality": "MRI", "sequence": "STIR"},
}  # fmt: skip


# --- public API -----------------------------------------------------------------------------------


def synthetic_source(n_patients: int, seed: int) -> pd.DataFrame:
    """One-row frame with the `sources` columns describing one generator run."""
    row = {
        "source_id": SYNTHETIC_SOURCE_ID,
        "kind": "synthetic",
        "citation": (
            f"Carta synthetic demo cohort ({n_patients} patients, seed {seed}). Not real patients."
        ),
        "doi": None,
        "data_cut": None,
        "note": (
            "All values are synthetic, made by carta.synth. Shapes and ranges follow the published "
            "sources listed in docs/synthetic.md; no value describes a real patient."
        ),
    }
    return pd.DataFrame({c: pd.Series([row[c]], dtype="str") for c in schema.columns("sources")})


def generate(
    n_patients: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED, chunk_size: int = 1000
) -> Iterator[dict[str, pd.DataFrame]]:
    """Yield chunks of at most `chunk_size` patients as {table: DataFrame}.

    Keys are 'patients', 'observations', 'events', 'adverse_events' and 'imaging'; each frame has
    exactly the columns of carta.schema.columns(table), in order, sorted by patient. The output
    depends only on (n_patients, seed); patient i is the same whatever n_patients or chunk_size.
    """
    if n_patients < 0:
        raise ValueError(f"n_patients must be >= 0, got {n_patients}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    n_blocks = -(-n_patients // BLOCK)
    pending: list[dict[str, dict[str, np.ndarray]]] = []
    start = 0  # first patient not yet yielded
    for block in range(n_blocks):
        pending.append(_Block(seed, block).tables(n_patients))
        available = min(n_patients, (block + 1) * BLOCK)
        while available - start >= chunk_size or (block == n_blocks - 1 and available > start):
            stop = min(start + chunk_size, available)
            part = _take(pending, start, stop)
            ids = tuple(f"SYN-{i + 1:05d}" for i in range(start, stop))
            yield {table: _frame(table, part[table], ids, start) for table in TABLES}
            start = stop
            pending = [b for b in pending if b["patients"]["pidx"][-1] >= start]


# --- from arrays to frames ------------------------------------------------------------------------


def _take(blocks: list[dict], lo: int, hi: int) -> dict[str, dict[str, np.ndarray]]:
    """The rows of patients lo..hi-1, from blocks whose tables are sorted by patient."""
    out = {}
    for table in TABLES:
        pieces = []
        for block in blocks:
            cols = block[table]
            i, j = np.searchsorted(cols["pidx"], [lo, hi])
            if j > i or not pieces:
                pieces.append({k: v[i:j] for k, v in cols.items()})
        out[table] = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
    return out


def _lookup(values: tuple, idx: np.ndarray) -> pd.Series:
    """Strings by integer code (-1 = missing) as a pandas str column, without Python loops."""
    indices = pa.array(np.asarray(idx, dtype=np.int32), mask=np.asarray(idx) < 0)
    return pa.array(values, type=pa.string()).take(indices).to_pandas()


_EMPTY_DTYPES = {"INTEGER": "Int32", "DOUBLE": "Float64", "BOOLEAN": "boolean", "DATE": "object"}

# Integer columns that may be empty: always nullable Int32, whatever a chunk holds.
_OPTIONAL_DAYS = {"start_day", "end_day", "onset_day"}


def _nullable_int(x: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.isnan(x)
    return pd.arrays.IntegerArray(np.where(missing, 0, x).astype(np.int32), missing)


def _frame(table: str, cols: dict[str, np.ndarray], ids: tuple[str, ...], lo: int) -> pd.DataFrame:
    n = len(cols["pidx"])
    zeros = np.zeros(n, dtype=np.int32)
    lookups = _lookups()
    constants = _CONSTANTS.get(table, {})
    data = {}
    for name, sql_type in schema.table_columns()[table]:
        if name == "patient_id":
            value = _lookup(ids, cols["pidx"] - lo)
        elif name == "source_id":
            value = _lookup((SYNTHETIC_SOURCE_ID,), zeros)
        elif name in constants and sql_type == "BOOLEAN":
            value = np.full(n, constants[name], dtype=bool)
        elif name in constants:
            value = _lookup((constants[name],), zeros)
        elif (table, name) in lookups:
            value = _lookup(lookups[(table, name)], cols[name])
        elif name not in cols:  # a column the generator does not model: empty
            value = pd.Series(pd.NA, index=range(n), dtype=_EMPTY_DTYPES.get(sql_type, "string"))
        elif sql_type == "VARCHAR":
            value = pa.array(cols[name], type=pa.string()).to_pandas()
        elif name in _OPTIONAL_DAYS:
            value = _nullable_int(cols[name].astype(np.float64))
        elif sql_type == "INTEGER":
            value = cols[name].astype(np.int32)
        elif sql_type == "BOOLEAN":
            value = cols[name].astype(bool)
        else:
            value = cols[name].astype(np.float64)
        data[name] = value
    return pd.DataFrame(data, copy=False)


class _Rows:
    """Rows of one table collected as column arrays; 'pidx' is the patient within the block.

    A column whose default is a string or None holds text (object arrays); the others hold numbers,
    with NaN for a missing integer.
    """

    def __init__(self, **defaults: object):
        self.defaults = defaults
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, mask: np.ndarray, **values: object) -> None:
        """One row per patient where `mask` is True; scalars are repeated, arrays indexed."""
        unknown = set(values) - set(self.defaults)
        if unknown:
            raise TypeError(f"unknown columns {sorted(unknown)}")
        idx = np.flatnonzero(mask)
        part = {"pidx": idx}
        for name, default in self.defaults.items():
            text = default is None or isinstance(default, str)
            arr = np.asarray(values.get(name, default), dtype=object if text else None)
            part[name] = np.full(idx.size, arr, dtype=arr.dtype) if arr.ndim == 0 else arr[idx]
        self.parts.append(part)

    def arrays(self, offset: int, sort_by: str) -> dict[str, np.ndarray]:
        if not self.parts:
            self.add(np.zeros(0, dtype=bool))
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        order = np.lexsort((cols[sort_by], cols["pidx"]))  # stable: ties keep insertion order
        cols = {k: v[order] for k, v in cols.items()}
        cols["pidx"] = cols["pidx"] + offset
        return cols


# --- model shapes (pure functions of study day; arrays broadcast) ---------------------------------


def activity(t, tau, floor, relapse_day, relapse_level, relapse_tau):
    """Fraction of baseline disease activity left on day t: 1 up to day 0, an exponential fall to
    `floor` with time constant `tau`, and after `relapse_day` a rise towards `relapse_level`."""
    fall = floor + (1.0 - floor) * np.exp(-np.clip(t, 0, None) / tau)
    rise = 1.0 - np.exp(-np.clip(t - relapse_day, 0, None) / relapse_tau)
    return fall + np.clip(relapse_level - fall, 0, None) * rise


def dip(t, nadir_day, tau, start=-5.0, power=1.5):
    """Depth of a cytopenia: 0 before lymphodepletion starts (day -5), 1 on the nadir day, then
    recovering with time constant `tau`."""
    fall = np.clip((t - start) / (nadir_day - start), 0, 1) ** 2
    recovery = np.exp(-((np.clip(t - nadir_day, 0, None) / tau) ** power))
    return np.where(t <= nadir_day, fall, recovery)


def pulse(t, peak_day, width):
    """Gamma-shaped pulse: 0 until peak_day - width, 1 on peak_day, decaying after it."""
    x = np.clip(t - (peak_day - width), 0, None) / width
    return x * np.exp(1.0 - x)


def ctcae_anc(v):
    """CTCAE v5.0 neutrophil count decreased (clinical-rules §4.1); LLN 1.5 leaves grade 1 empty."""
    return np.select([v < 0.5, v < 1.0, v < 1.5], [4, 3, 2], 0)


def ctcae_hgb(v, lln=11.5):
    """CTCAE v5.0 anaemia by haemoglobin in g/dL (grade 4 is clinical, not a lab threshold)."""
    return np.select([v < 8.0, v < 10.0, v < lln], [3, 2, 1], 0)


def ctcae_plt(v, lln=150.0):
    """CTCAE v5.0 platelet count decreased, x10^9/L."""
    return np.select([v < 25, v < 50, v < 75, v < lln], [4, 3, 2, 1], 0)


def _scale(x, lo, hi, decimals=0, step=None):
    """Clip to the instrument's scale and round to its resolution."""
    x = np.clip(x, lo, hi)
    return np.round(x / step) * step if step else np.round(x, decimals)


# --- one block of patients ------------------------------------------------------------------------


class _Block:
    """The patients block*BLOCK .. (block+1)*BLOCK-1, all drawn from one random stream."""

    def __init__(self, seed: int, block: int):
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, block]))
        self.seed, self.block = seed, block
        self.m = BLOCK
        self.offset = block * BLOCK
        self.obs: list[dict[str, np.ndarray]] = []
        self.events = _Rows(
            kind="",
            name="",
            start_day=np.nan,
            end_day=np.nan,
            dose=np.nan,
            dose_unit=None,
            dose_basis=None,
            note=None,
        )
        self.aes = _Rows(
            term="",
            grade=0,
            grading_system="CTCAE v5.0",
            onset_day=np.nan,
            end_day=np.nan,
            serious=False,
            treatment=None,
            organ=None,
            note=None,
        )
        self._patients()
        self._schedule()
        self._disease()
        self._enzymes()
        self._inflammation()
        self._cytopenias()
        self._cells()
        self._igg()
        self._scores()
        self._infections()
        self._licats()
        self._course()
        self._imaging()

    # helpers
    def uniform(self, lo, hi):
        return self.rng.uniform(lo, hi, self.m)

    def normal(self, mean, sd, shape=None):
        """Normal draws truncated at 3 SD, so every modelled value has a hard range."""
        z = np.clip(self.rng.standard_normal(self.m if shape is None else shape), -3, 3)
        return mean + sd * z

    def lognormal(self, median, sigma, shape=None):
        return median * np.exp(self.normal(0.0, sigma, shape))

    def noise(self, sigma, shape):
        """Multiplicative measurement noise (log-normal, truncated at 3 SD)."""
        return self.lognormal(1.0, sigma, shape)

    def col(self, x):
        return np.asarray(x)[:, None]

    def measured(self, cols: np.ndarray) -> np.ndarray:
        """Which of these visits have a value: visit took place, analyte not dropped."""
        drop = self.rng.random((self.m, len(cols))) < P_MISSING_VALUE
        return self.present[:, cols] & ~(drop & ~self.protected[cols])

    def add_obs(self, code: str, cols: np.ndarray, values: np.ndarray, mask: np.ndarray) -> None:
        values = np.round(values, DECIMALS[code])
        qualifier = np.full(values.shape, -1)
        if code in LLOQ:
            below = values < LLOQ[code]
            values = np.where(below, LLOQ[code], values)
            qualifier = np.where(below, 0, -1)
        ii, jj = np.nonzero(mask)
        self.obs.append(
            {
                "pidx": ii,
                "day": self.days[:, cols][ii, jj],
                "code": np.full(ii.size, _code(code)),
                "value": values[ii, jj].astype(np.float64),
                "specimen": np.zeros(ii.size, dtype=np.int64),
                "qualifier": qualifier[ii, jj],
                "note": np.full(ii.size, -1),
            }
        )

    def activity(self, t, tau_factor=1.0):
        return activity(
            t,
            self.col(self.tau * tau_factor),
            self.col(self.floor),
            self.col(self.relapse_day),
            self.col(self.relapse_level),
            self.col(self.relapse_tau),
        )

    # patients
    def _patients(self) -> None:
        rng, m = self.rng, self.m
        self.female = rng.random(m) < 0.65
        self.age = np.round(4.0 + 13.0 * rng.beta(1.6, 1.6, m), 1)
        self.autoantibody = rng.choice(len(AUTOANTIBODIES), m, p=_AUTOANTIBODY_P)
        duration = np.minimum(self.lognormal(3.0, 0.6), self.age - 2)
        self.duration = np.round(np.clip(duration, 0.5, None), 1)
        self.prior = rng.integers(0, len(PRIOR_THERAPIES), m)
        self.cell_dose = np.round(1e6 * np.clip(self.lognormal(1.0, 0.07), 0.85, 1.2), -4)
        pattern = np.tile(RESPONSE_PATTERN, (m // len(RESPONSE_PATTERN), 1))
        self.response = rng.permuted(pattern, axis=1).ravel()
        self.partial = self.response == PARTIAL
        self.relapse = self.response == RELAPSE

    # visits
    def _schedule(self) -> None:
        rng, m = self.rng, self.m
        self.withdrawal = rng.integers(-30, -20, m)  # day -30 .. -21
        self.apheresis = self.withdrawal + rng.integers(3, 8, m)  # day -27 .. -14
        days = NOMINAL_DAYS + rng.integers(-_JITTER, _JITTER + 1, size=(m, _K))
        days[:, 0] = self.withdrawal - rng.integers(1, 6, m)  # screening
        days[:, _BASELINE] = -6 - (rng.random(m) < 0.3)
        last = np.where(
            self.relapse,
            rng.choice(_LAST_RELAPSE, m, p=_LAST_RELAPSE_P),
            rng.choice(_LAST, m, p=_LAST_P),
        )
        r = np.arange(m)
        days[r, last] = np.clip(days[r, last], 180, 365)
        col = np.arange(_K)
        missed = rng.random((m, _K)) < P_MISSED_VISIT
        missed &= (col >= _FIRST_OUTPATIENT) & (col != last[:, None])
        self.days, self.t = days, days.astype(np.float64)
        self.last = last
        self.present = (col <= last[:, None]) & ~missed
        self.follow_up = days[r, last]
        self.protected = np.isin(col, _ASSESS)  # analytes are never dropped at assessments

    # disease activity shared by enzymes, scores and MRI
    def _disease(self) -> None:
        rng, m = self.rng, self.m
        self.severity = rng.beta(2.5, 2.0, m)
        self.muscle = np.clip(self.severity + self.normal(0, 0.15), 0.05, 1.0)
        self.skin = np.clip(self.severity + self.normal(0, 0.20), 0.10, 1.0)
        self.floor = np.where(self.partial, self.uniform(0.55, 0.80), self.uniform(0.0, 0.08))
        self.tau = self.uniform(25, 60)
        self.relapse_day = np.where(self.relapse, rng.integers(150, 181, m), 10**6).astype(float)
        self.relapse_level = self.uniform(0.50, 0.85)
        self.relapse_tau = self.uniform(15, 30)

    # muscle enzymes: elevated at baseline in varied amounts, falling towards normal (§2)
    def _enzymes(self) -> None:
        t, col = self.t, self.col
        ck_mult = np.clip(np.exp(np.log(0.8) + 3.2 * self.muscle + self.normal(0, 0.5)), 0.5, 40)
        ck_mult = np.where(self.partial | self.relapse, np.maximum(ck_mult, 4.0), ck_mult)
        tau = self.uniform(8, 25)
        floor = np.where(self.partial, self.uniform(0.35, 0.55), 0.0)
        # Activity flares by up to 30 % between the withdrawal of immunosuppression and day 0.
        flare = 1 + col(self.uniform(0, 0.3)) * np.clip(1 - t / col(self.withdrawal), 0, 1)
        for code, (slope, normal_lo, normal_hi, tau_factor) in _ENZYMES.items():
            uln = float(_parameters().at[code, "ref_high"])
            noise = self.normal(0, 0.3)
            mult = ck_mult if code == "CK" else np.exp(slope * np.log(ck_mult) + noise)
            normal = uln * self.uniform(normal_lo, normal_hi)
            base = np.maximum(mult * uln, normal)
            act = activity(
                t,
                col(tau * tau_factor),
                col(floor),
                col(self.relapse_day),
                col(self.relapse_level),
                col(self.relapse_tau),
            )
            level = col(normal) + (col(base) * flare - col(normal)) * act
            self.add_obs(
                code, _ALL_COLS, level * self.noise(0.08, t.shape), self.measured(_ALL_COLS)
            )

    # CRS (ASTCT 2019, §4.2) with CRP and ferritin rising with it
    def _inflammation(self) -> None:
        rng, m, t, col = self.rng, self.m, self.t, self.col
        grade = rng.choice(3, m, p=[0.12, 0.72, 0.16])
        onset = 1 + np.minimum(rng.geometric(0.55, m) - 1, 6)  # day 1..7, mostly 1-2
        length = 1 + rng.binomial(4, 0.35, m)  # 1..5 days
        self.crs_grade, self.crs_onset, self.crs_end = grade, onset, onset + length - 1
        crp0 = np.clip(self.lognormal(2.0, 0.8), 0.2, 25)
        crp_peak = np.select(
            [grade == 2, grade == 1],
            [self.lognormal(70, 0.35), self.lognormal(35, 0.5)],
            self.uniform(2, 10),
        )
        crp = col(crp0) * (0.5 + 0.5 * self.activity(t)) + col(crp_peak) * pulse(
            t, col(onset + 1), 2.0
        )
        self.add_obs("CRP", _ALL_COLS, crp * self.noise(0.12, t.shape), self.measured(_ALL_COLS))
        mda5 = self.autoantibody == AUTOANTIBODIES.index("anti-MDA5")
        ferritin0 = np.clip(self.lognormal(80, 0.7) * np.where(mda5, 2.0, 1.0), 15, 1000)
        ferritin_peak = np.select(
            [grade == 2, grade == 1],
            [self.lognormal(6, 0.35), self.lognormal(3, 0.35)],
            self.uniform(1.1, 1.6),
        )
        ferritin = col(ferritin0) * (1 + col(ferritin_peak - 1) * pulse(t, col(onset + 3), 4.0))
        self.add_obs(
            "FERRITIN", _ALL_COLS, ferritin * self.noise(0.10, t.shape), self.measured(_ALL_COLS)
        )
        has = grade > 0
        g2 = grade == 2
        self.aes.add(
            has,
            term="Cytokine release syndrome",
            grade=grade,
            grading_system="ASTCT 2019",
            onset_day=onset,
            end_day=self.crs_end,
            treatment=np.where(g2, "Tocilizumab", "Antipyretics"),
            note=np.where(
                g2,
                "Fever with hypotension not needing vasopressors.",
                "Fever >= 38.0 C without hypotension or hypoxia.",
            ),
        )
        icans = has & (rng.random(m) < 0.04)
        icans_onset = np.minimum(self.crs_end + rng.integers(0, 3, m), 10)
        self.aes.add(
            icans,
            term="Immune effector cell-associated neurotoxicity syndrome",
            grade=1,
            grading_system="ASTCT 2019",
            onset_day=icans_onset,
            end_day=icans_onset + rng.integers(0, 2, m),
            note="Grade 1 by ICE/CAPD; resolved without treatment.",
        )
        toci_day = onset + (length > 1)
        self.events.add(
            g2,
            kind="medication",
            name="Tocilizumab",
            start_day=toci_day,
            end_day=toci_day,
            dose=8.0,
            dose_unit="mg/kg",
            dose_basis="per_dose",
            note="Single dose for CRS grade 2.",
        )

    # cytopenias after lymphodepletion (days -5..-3): nadir, then recovery (§4.1, §4.3)
    def _cytopenias(self) -> None:
        rng, m, t, col = self.rng, self.m, self.t, self.col
        anc0 = np.clip(self.lognormal(4.0, 0.35), 1.8, 9.0)
        anc_nadir = np.clip(self.lognormal(0.8, 0.9), 0.05, 0.8 * anc0)
        depth = dip(t, col(rng.integers(5, 13, m)), col(self.uniform(5, 14)))
        anc = col(anc0) * (1 - col(1 - anc_nadir / anc0) * depth) * self.noise(0.08, t.shape)
        anc = np.maximum(np.round(anc, 2), 0.01)

        hgb0 = np.clip(self.normal(12.3, 1.0), 9.8, 15.0)
        hgb_drop = np.minimum(self.uniform(0.8, 3.5), hgb0 - 6.5)
        depth = dip(t, col(rng.integers(7, 15, m)), col(self.uniform(20, 45)))
        hgb = np.round(col(hgb0) - col(hgb_drop) * depth + self.normal(0, 0.2, t.shape), 1)

        plt0 = np.clip(self.lognormal(290, 0.25), 160, 480)
        plt_ratio = np.clip(self.lognormal(0.55, 0.45), 0.08, 0.95)
        depth = dip(t, col(rng.integers(7, 15, m)), col(self.uniform(7, 20)))
        plt = col(plt0) * (1 - col(1 - plt_ratio) * depth) * self.noise(0.07, t.shape)
        plt = np.maximum(np.round(plt), 3)

        lym0 = np.clip(self.lognormal(1.9, 0.3), 0.8, 4.5)
        lym_ratio = col(self.uniform(0.03, 0.20))
        nadir = col(rng.integers(0, 5, m))
        depth = dip(t, nadir, col(self.uniform(20, 50)))
        level = np.where(t <= nadir, 1.0, col(self.uniform(0.7, 1.0)))  # recovers to 70-100 %
        lym = col(lym0) * (level - (level - lym_ratio) * depth) * self.noise(0.1, t.shape)
        self.add_obs("LYMPH", _ALL_COLS, np.maximum(lym, 0.01), self.measured(_ALL_COLS))

        # Adverse events graded CTCAE v5.0 from the values stored, against the baseline sample.
        r, col_idx = np.arange(m), np.arange(_K)
        gcsf_wanted = rng.random(m) < 0.6
        for code, term, values, grade_of in (
            ("ANC", "Neutropenia", anc, ctcae_anc),
            ("HGB", "Anemia", hgb, ctcae_hgb),
            ("PLT", "Thrombocytopenia", plt, ctcae_plt),
        ):
            mask = self.measured(_ALL_COLS)
            self.add_obs(code, _ALL_COLS, values, mask)
            grades = grade_of(values)
            baseline = np.where(mask[:, _BASELINE], grades[:, _BASELINE], 0)
            worse = mask & _CYTOPENIA_COLS & (grades > col(baseline))
            has = worse.any(axis=1)
            grade = np.where(worse, grades, 0).max(axis=1)
            onset = np.argmax(worse, axis=1)
            back = mask & (grades <= col(baseline)) & (col_idx > col(onset))
            end = np.where(back.any(axis=1), self.days[r, np.argmax(back, axis=1)], np.nan)
            treatment = np.full(m, None, dtype=object)
            if code == "ANC":  # G-CSF for some grade 4 neutropenia, until ANC >= 0.5
                g4 = mask & _CYTOPENIA_COLS & (grades == 4)
                gcsf = g4.any(axis=1) & gcsf_wanted
                g4_col = np.argmax(g4, axis=1)
                up = mask & (values >= 0.5) & (col_idx > col(g4_col))
                gcsf_end = np.where(up.any(axis=1), self.days[r, np.argmax(up, axis=1)], np.nan)
                self.events.add(
                    gcsf,
                    kind="medication",
                    name="Filgrastim (G-CSF)",
                    start_day=self.days[r, g4_col],
                    end_day=gcsf_end,
                    dose=5.0,
                    dose_unit="ug/kg/day",
                    note="Dose per day, given until ANC >= 0.5 x10^9/L.",
                )
                treatment[gcsf] = "G-CSF (filgrastim)"
            elif code == "HGB":
                treatment[grade >= 3] = "Red cell transfusion"
            ctcae_term = {
                "ANC": "Neutrophil count decreased",
                "HGB": "Anemia",
                "PLT": "Platelet count decreased",
            }[code]
            self.aes.add(
                has,
                term=term,
                grade=grade,
                onset_day=self.days[r, onset],
                end_day=end,
                treatment=treatment,
                note=f"CTCAE v5.0 term: {ctcae_term}; graded from the lowest value "
                "after lymphodepletion.",
            )

    # CAR T expansion and B-cell aplasia (§5, §8)
    def _cells(self) -> None:
        rng, m, col = self.rng, self.m, self.col
        # CAR T: peak on day 7-14 (log-normal magnitude), then biphasic contraction.
        cmax = np.clip(self.lognormal(25, 0.7), 5, 100)
        peak_day = 7 + np.floor(8 * rng.beta(1.3, 2.2, m))  # 7..14, mostly 7-10
        day1 = self.uniform(0.05, 0.3)
        growth = np.log(cmax / day1) / (peak_day - 1)
        fast = -np.log(self.uniform(0.05, 0.20)) / 21  # to 5-20 % of the peak in three weeks
        slow = np.log(2) / self.uniform(25, 100)  # then a half-life of 25-100 days
        t = self.t[:, _CART_COLS]
        after = t - col(peak_day)
        log_cart = col(np.log(cmax)) - np.where(
            after <= 0,
            col(growth) * -after,
            col(fast) * np.minimum(after, 21) + col(slow) * np.clip(after - 21, 0, None),
        )
        cart = np.exp(log_cart) * self.noise(0.15, t.shape)
        self.add_obs("CART", _CART_COLS, cart, self.measured(_CART_COLS))

        # CD19 B cells: below 1 cell/uL by day 2-6, reappearing ~110 +/- 32 days after infusion.
        cd19_0 = np.clip(self.lognormal(300, 0.5), 60, 1200)
        depleted_day = rng.integers(2, 7, m)
        recovery = np.clip(np.round(self.normal(110, 32)), 50, 200)
        self.recovery = np.where(
            self.relapse, np.minimum(recovery, self.relapse_day - 14), recovery
        )
        doubling = self.uniform(4, 8)
        plateau = np.clip(cd19_0 * self.uniform(0.5, 1.5), 100, 1500)
        after_ld = cd19_0 * self.uniform(0.05, 0.3)  # on day 0, after lymphodepletion
        t = self.t[:, _CD19_COLS]
        falling = np.exp(
            col(np.log(after_ld))
            + col(np.log(0.3) - np.log(after_ld)) * np.clip(t / col(depleted_day), 0, 1)
        )
        regrowth = np.exp(np.log(2) / col(doubling) * (t - col(self.recovery)))
        cd19 = np.select(
            [t < -5, t <= col(depleted_day), t < col(self.recovery)],
            [col(cd19_0), falling, 0.3],
            np.minimum(regrowth, col(plateau)),
        )
        cd19 = cd19 * self.noise(0.15, t.shape)
        self.add_obs("CD19", _CD19_COLS, cd19, self.measured(_CD19_COLS))
        marrow = (rng.random(m) < 0.15) & self.present[:, _COL[14]]
        n = int(marrow.sum())
        self.obs.append(
            {
                "pidx": np.flatnonzero(marrow),
                "day": self.days[marrow, _COL[14]],
                "code": np.full(n, _code("CD19")),
                "value": np.full(n, LLOQ["CD19"]),
                "specimen": np.ones(n, dtype=np.int64),
                "qualifier": np.zeros(n, dtype=np.int64),
                "note": np.zeros(n, dtype=np.int64),
            }
        )

    # IgG falls after B-cell depletion; IVIG replacement when it drops below 4 g/L
    def _igg(self) -> None:
        m, col = self.m, self.col
        igg0 = np.clip(self.normal(10.0, 2.0), 6.0, 15.0)
        floor = col(self.uniform(0.35, 0.75))
        t = self.t[:, _IGG_COLS]
        igg = col(igg0) * (
            floor + (1 - floor) * np.exp(-np.clip(t, 0, None) / col(self.uniform(40, 100)))
        )
        regain = 1 - np.exp(-np.clip(t - col(self.recovery) - 30, 0, None) / 90)
        igg = np.round((igg + (col(igg0) - igg) * regain) * self.noise(0.05, t.shape), 1)
        mask = self.measured(_IGG_COLS)
        low = mask & (igg < 4.0) & (t > 0)
        ivig = low.any(axis=1)
        start = t[np.arange(m), np.argmax(low, axis=1)]
        boost = np.round(self.uniform(3, 5), 1)
        igg = np.where(col(ivig) & (t > col(start)), igg + col(boost), igg)
        self.add_obs("IGG", _IGG_COLS, igg, mask)
        end = np.minimum(np.maximum(start + 28, self.recovery + 60), self.follow_up)
        self.events.add(
            ivig,
            kind="medication",
            name="IVIG",
            start_day=start,
            end_day=end,
            dose=0.4,
            dose_unit="g/kg",
            dose_basis="per_dose",
            note="Every 4 weeks for IgG < 4 g/L after B-cell depletion.",
        )

    # clinical scores at the assessment visits (§2, §3), improving with disease activity
    def _scores(self) -> None:
        rng, m, col = self.rng, self.m, self.col
        n_a = len(_ASSESS)
        t = self.t[:, _ASSESS]
        act, act_skin = self.activity(t), self.activity(t, 1.3)  # skin responds more slowly
        severity, muscle, skin = self.severity, self.muscle, self.skin

        def eps(sd):
            return self.normal(0, sd, (m, n_a))

        pga0 = np.clip(3.5 + 5.5 * severity + self.normal(0, 0.6), 2, 10)
        parent0 = np.clip(pga0 + self.normal(0, 1.2), 1, 10)
        extra0 = np.clip(2 + 6 * skin + self.normal(0, 0.8), 1, 10)
        chaq0 = np.clip(0.3 + 2.2 * muscle + self.normal(0, 0.3), 0.125, 3)
        cmas_max = np.round(
            np.clip(52 - 1.5 * np.clip(8 - self.age, 0, None) + self.normal(0, 1), 40, 52)
        )
        cmas0 = np.clip(cmas_max - (8 + 30 * muscle + self.normal(0, 3)), 3, cmas_max - 4)
        mmt_max = rng.integers(78, 81, m).astype(float)
        mmt0 = np.clip(mmt_max - (4 + 30 * muscle + self.normal(0, 3)), 30, mmt_max - 2)
        cat0 = np.clip(4 + 24 * skin + self.normal(0, 3), 2, 40)
        damage = np.clip(rng.poisson(1 + 3 * self.duration / 5), 0, 15).astype(float)
        das_skin0 = np.clip(3 + 6 * skin + self.normal(0, 0.8), 2, 9)
        das_muscle0 = np.clip(1 + 9 * muscle + self.normal(0, 0.8), 1, 11)
        values = {
            "PGA": _scale(col(pga0) * act + eps(0.3), 0, 10, 1),
            "PARENT_GA": _scale(col(parent0) * act**0.85 + eps(0.5), 0, 10, 1),
            "EXTRAMUSC": _scale(col(extra0) * act_skin + eps(0.4), 0, 10, 1),
            "CHAQ": _scale(col(chaq0) * act + eps(0.1), 0, 3, step=0.125),
            "CMAS": _scale(col(cmas_max) - col(cmas_max - cmas0) * act + eps(1.0), 0, 52),
            "MMT8": _scale(col(mmt_max) - col(mmt_max - mmt0) * act + eps(1.0), 0, 80),
            "CAT_ACT": _scale(col(cat0) * act_skin + eps(1.0), 0, 96),
            "CAT_DMG": np.repeat(col(damage), n_a, axis=1),
            "DAS_SKIN": _scale(col(das_skin0) * act_skin + eps(0.5), 0, 9),
            "DAS_MUSCLE": _scale(col(das_muscle0) * act + eps(0.5), 0, 11),
        }
        values["DAS"] = values["DAS_SKIN"] + values["DAS_MUSCLE"]

        took_place = self.present[:, _ASSESS]
        p_one = np.where(np.arange(n_a) == 0, *P_MISSING_CORE)
        miss_one = rng.random((m, n_a)) < p_one
        which = rng.choice(len(CORE_SET), (m, n_a), p=_CORE_MISSING_P)
        group_missing = {g: rng.random((m, n_a)) < 0.04 for g in ("DAS", "CAT", "CMAS")}
        for code in SCORES:
            mask = took_place.copy()
            if code in CORE_SET:
                mask &= ~(miss_one & (which == CORE_SET.index(code)))
            for prefix, missing in group_missing.items():
                if code.startswith(prefix):
                    mask &= ~missing
            self.add_obs(code, _ASSESS, values[code], mask)

    # occasional infections: one slot early (days 15-90) and one late (day 90 to follow-up)
    def _infections(self) -> None:
        rng, m = self.rng, self.m
        for lo, hi_day, p in ((15, np.full(m, 90), 0.10), (90, self.follow_up - 5, 0.12)):
            happens = (rng.random(m) < p) & (hi_day > lo)
            onset = lo + np.floor(rng.random(m) * np.clip(hi_day - lo, 1, None))
            kind = rng.choice(len(INFECTIONS), m, p=_INFECTION_P)
            lung = kind == INFECTIONS.index("Lung infection")
            grade = np.where(
                lung & (rng.random(m) < 0.4), 3, np.where(kind == 0, 1 + (rng.random(m) < 0.5), 2)
            )
            end = np.minimum(onset + rng.integers(4, 14, m), self.follow_up)
            treatment = np.select(
                [grade >= 3, grade == 2],
                ["Intravenous antibiotics", "Oral antibiotics"],
                "Symptomatic",
            )
            note = np.array([f"CTCAE v5.0 term: {name}." for name in INFECTIONS], dtype=object)
            terms = np.array(INFECTIONS, dtype=object)
            self.aes.add(
                happens,
                term=terms[kind],
                grade=grade,
                onset_day=onset,
                end_day=end,
                serious=grade >= 3,
                treatment=treatment,
                note=note[kind],
            )
            stay = np.minimum(onset + rng.integers(3, 8, m), self.follow_up)
            self.events.add(
                happens & (grade >= 3),
                kind="hospitalisation",
                name="Hospitalisation for infection",
                start_day=onset,
                end_day=stay,
                note="Intravenous antibiotics.",
            )

    # LICATS (clinical-rules §10; Hagen, Lancet Rheumatol 2025: 77 % of 39 patients, in organs
    # affected before, skin 35 %, kidney 22 %, median onset day 10, during B-cell aplasia). In JDM
    # the organs affected before are skin and muscle. Drawn from a stream of its own, so that the
    # rest of the cohort is the same with or without it.
    def _licats(self) -> None:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.block, 1]))
        m = self.m
        happens = rng.random(m) < 0.77
        organ = np.where(rng.random(m) < 0.7, "skin", "muscle").astype(object)
        onset = np.clip(np.round(rng.normal(10, 3, m)), 4, 21)
        end = onset + rng.integers(3, 15, m)
        grade = 1 + (rng.random(m) < 0.25)
        self.aes.add(
            happens,
            term="Local immune effector cell-associated toxicity syndrome (LICATS)",
            grade=grade,
            grading_system="CTCAE v5.0",
            onset_day=onset,
            end_day=end,
            treatment=np.where(grade == 2, "Topical glucocorticoid", None),
            organ=organ,
            note="Local inflammation in an organ affected before CAR T, during B-cell aplasia; "
            "not a flare.",
        )

    # the treatment course (§1; lymphodepletion as in Pecher 2023, §8)
    def _course(self) -> None:
        rng, m, ev = self.rng, self.m, self.events
        everyone = np.ones(m, dtype=bool)
        ev.add(
            everyone,
            kind="withdrawal",
            name="Immunosuppressive and glucocorticoid treatment withdrawn",
            start_day=self.withdrawal,
            end_day=self.withdrawal,
            note="All immunosuppressive and glucocorticoid treatment stopped before leukapheresis.",
        )
        ev.add(
            everyone,
            kind="apheresis",
            name="Leukapheresis",
            start_day=self.apheresis,
            end_day=self.apheresis,
            note="Autologous leukapheresis for CAR T manufacturing.",
        )
        ev.add(
            everyone,
            kind="lymphodepletion",
            name="Fludarabine",
            start_day=-5,
            end_day=-3,
            dose=75.0,
            dose_unit="mg/m2",
            dose_basis="total",
            note="Total dose: 25 mg/m2 per day on days -5 to -3.",
        )
        ev.add(
            everyone,
            kind="lymphodepletion",
            name="Cyclophosphamide",
            start_day=-3,
            end_day=-3,
            dose=1000.0,
            dose_unit="mg/m2",
            dose_basis="total",
            note="Single dose on day -3.",
        )
        ev.add(
            everyone,
            kind="infusion",
            name="CD19 CAR T infusion",
            start_day=0,
            end_day=0,
            dose=self.cell_dose,
            dose_unit="cells/kg",
            dose_basis="per_dose",
            note="Single infusion; dose is CAR T cells per kg body weight.",
        )
        discharge = np.maximum(8, self.crs_end + 2) + rng.integers(0, 5, m)
        ev.add(
            everyone,
            kind="hospitalisation",
            name="CAR T admission",
            start_day=-1,
            end_day=discharge,
            note="Inpatient stay for the infusion and CRS monitoring.",
        )
        restart = np.minimum(self.relapse_day + 21 + rng.integers(0, 10, m), self.follow_up)
        mtx = rng.random(m) < 0.6
        ev.add(
            self.relapse,
            kind="medication",
            name=np.where(mtx, "Methotrexate", "Prednisolone"),
            start_day=restart,
            end_day=self.follow_up,
            dose=np.where(mtx, 15.0, 1.0),
            dose_unit=np.where(mtx, "mg/m2/week", "mg/kg/day"),
            note=np.where(
                mtx, "Restarted for relapse; dose per week.", "Restarted for relapse; dose per day."
            ),
        )
        ev.add(
            everyone,
            kind="follow_up",
            name="Last follow-up visit",
            start_day=self.follow_up,
            end_day=self.follow_up,
            note="Last visit of the synthetic follow-up.",
        )

    # thigh and pelvis STIR MRI at baseline, ~M3 and ~M6/M8, oedema fading with activity (§7)
    def _imaging(self) -> None:
        rng, m = self.rng, self.m
        late = np.where(NOMINAL_DAYS[self.last] >= 240, 240, 180) + rng.integers(-10, 11, m)
        exam_days = np.stack(
            [
                self.days[:, _BASELINE] - rng.integers(1, 9, m),  # day -15 .. -7
                90 + rng.integers(-10, 11, m),
                np.minimum(late, self.follow_up),
            ],
            axis=1,
        )
        done = np.stack([np.ones(m, bool), rng.random(m) < 0.9, rng.random(m) < 0.85], axis=1)
        act = self.activity(exam_days.astype(np.float64), 1.2)[:, :, None, None]
        load = np.clip(self.muscle + self.normal(0, 0.2), 0, 1)[:, None, None, None]
        shape = (m, 3, len(MRI_REGIONS), len(_MRI_SIDES))
        weight = _MRI_REGION_WEIGHT[None, None, :, None]
        oedema = np.clip(np.round(2.4 * load * act * weight + self.normal(0, 0.35, shape)), 0, 2)
        fascial = (1.3 * load * act + self.normal(0, 0.3, shape) > 0.5).astype(np.float64)
        count = (oedema >= 1).sum(axis=(2, 3))
        top = oedema.max(axis=(2, 3)).astype(np.int64)
        summary = (count * 3 + top) * 2 + fascial.max(axis=(2, 3)).astype(np.int64)
        ii, ee, rr, ss = np.nonzero(np.broadcast_to(done[:, :, None, None], shape))
        finding = np.repeat([0, 1], ii.size)
        self.imaging = {
            "pidx": np.concatenate([ii, ii]),
            "day": np.concatenate([exam_days[ii, ee]] * 2),
            "region": np.concatenate([rr, rr]),
            "finding": finding,
            "side": np.concatenate([ss, ss]),
            "grade": np.concatenate([oedema[ii, ee, rr, ss], fascial[ii, ee, rr, ss]]),
            "scale": finding,
            "summary": np.concatenate([summary[ii, ee]] * 2),
        }

    # the block as column arrays, sorted by patient
    def tables(self, n_patients: int) -> dict[str, dict[str, np.ndarray]]:
        offset = self.offset
        patients = {
            "pidx": np.arange(self.m),
            "sex": self.female.astype(np.int64),
            "age_years": self.age,
            "autoantibody": self.autoantibody,
            "disease_duration_years": self.duration,
            "prior_therapies": self.prior,
            "cell_dose_per_kg": self.cell_dose,
            "follow_up_days": self.follow_up,
        }
        params = _parameters()
        obs = {k: np.concatenate([p[k] for p in self.obs]) for k in self.obs[0]}
        sort = params["sort"].to_numpy()
        order = np.lexsort((obs["specimen"], sort[obs["code"]], obs["day"], obs["pidx"]))
        obs = {k: v[order] for k, v in obs.items()}
        obs["unit"] = obs["code"]
        obs["ref_low"] = params["ref_low"].to_numpy(dtype=np.float64)[obs["code"]]
        obs["ref_high"] = params["ref_high"].to_numpy(dtype=np.float64)[obs["code"]]
        img = self.imaging
        order = np.lexsort((img["side"], img["region"], img["finding"], img["day"], img["pidx"]))
        img = {k: v[order] for k, v in img.items()}
        out = {"patients": patients, "observations": obs, "imaging": img}
        for cols in out.values():
            cols["pidx"] = cols["pidx"] + offset
        out["events"] = self.events.arrays(offset, "start_day")
        out["adverse_events"] = self.aes.arrays(offset, "onset_day")
        if n_patients < offset + self.m:  # the last block: keep patients below n_patients
            for table, cols in out.items():
                keep = cols["pidx"] < n_patients
                out[table] = {k: v[keep] for k, v in cols.items()}
        return out
