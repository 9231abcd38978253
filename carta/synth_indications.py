"""Synthetic demo patients of the other indications CD19 CAR T is given for in autoimmune disease:
systemic lupus erythematosus (SLE), systemic sclerosis (SSc) and adult myositis (IIM), beside the
JDM cohort of carta/synth.py.

Every value is synthetic and says so (source `synthetic`); no value describes a real patient.
The mix and the shapes follow what the published series report (docs/synthetic.md): 8 SLE, 3
myositis and 4 SSc in Müller F et al. NEJM 2024;390:687; B cells back after 110 ± 32 days
(Mackensen A et al. Nat Med 2022;28:2124); CRS grade 1 in most, grade 2 and ICANS grade 1 in
few; glucocorticoids tapered and immunosuppression stopped. Where a range is not published it
is a design choice, marked [U] in docs/synthetic.md.

Patients are drawn per indication from their own random stream, so patient SYN-SLE-0003 is the
same whatever the number of patients asked for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carta import schema
from carta.measures import remission
from carta.synth import PRODUCT, SYNTHETIC_SOURCE_ID

# Müller 2024's mix: 8 SLE, 3 myositis, 4 SSc of 15.
DEFAULT_PATIENTS = 15
SHARES = {"SLE": 8, "IIM": 3, "SSC": 4}
DIAGNOSES = {
    "SLE": ("Systemic lupus erythematosus", "Lupus nephritis"),
    "IIM": ("Antisynthetase syndrome", "Dermatomyositis"),
    "SSC": ("Diffuse cutaneous systemic sclerosis",),
}
COHORT = "Synthetic demo"
# Visits (study days): baseline, then the days the series report on; jitter +-2 days after day 7.
VISITS = np.array([-6, 7, 14, 28, 60, 90, 180, 270, 365])
ASSESSMENTS = np.array([-6, 28, 90, 180, 270, 365])  # the scores' visits
RECOVERY_MEAN, RECOVERY_SD = 110.0, 32.0  # B-cell reappearance, Mackensen 2022 [C]

_SEEDS = {"SLE": 11, "IIM": 12, "SSC": 13}
# Autoantibodies tested at baseline and months 3, 6 and 12: one per indication (by diagnosis for
# myositis), and an ANA titre for lupus. About half turn negative after the infusion: a synthetic
# design choice that gives the serology track both outcomes, not a published rate.
SEROLOGY_VISITS = np.array([-6, 90, 180, 365])
ANTIBODIES = {"SLE": ("ANTI_SM",), "SSC": ("ANTI_SCL70",), "IIM": ("ANTI_JO1", "ANTI_MDA5")}
ANTIBODY_NAMES = {"ANTI_SM": "anti-Sm", "ANTI_SCL70": "anti-Scl-70", "ANTI_JO1": "anti-Jo-1",
                  "ANTI_MDA5": "anti-MDA5"}  # fmt: skip
SEROCONVERSION_SHARE = 0.5


def _units() -> dict[str, str]:
    from carta import dictionary

    return dictionary.parameters().set_index("code")["unit"].to_dict()


def counts(n: int) -> dict[str, int]:
    """How many patients of each indication make `n` (largest remainder, Müller 2024's mix)."""
    total = sum(SHARES.values())
    exact = {k: n * v / total for k, v in SHARES.items()}
    out = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[: n - sum(out.values())]:
        out[k] += 1
    return out


def generate(n: int = DEFAULT_PATIENTS, seed: int = 2024) -> dict[str, pd.DataFrame]:
    """{table: frame} for `n` patients of the three indications, each frame with exactly the
    columns of carta.schema.columns(table)."""
    parts = [_Group(ind, m, seed) for ind, m in counts(n).items() if m]
    out = {}
    for table in ("patients", "observations", "events", "adverse_events"):
        frames = [getattr(g, table) for g in parts]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        out[table] = _conform(table, frame)
    return out


def _conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The schema's columns, in order, the ones not modelled empty."""
    columns = schema.table_columns()[table]
    data = {}
    for name, sql_type in columns:
        if name in frame:
            data[name] = frame[name]
        elif sql_type == "BOOLEAN":
            data[name] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        elif sql_type in ("INTEGER", "BIGINT"):
            data[name] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        elif sql_type == "DOUBLE":
            data[name] = pd.Series(np.nan, index=frame.index, dtype="float64")
        else:
            data[name] = pd.Series(None, index=frame.index, dtype="object")
    return pd.DataFrame(data)


class _Group:
    """The patients of one indication, drawn together."""

    def __init__(self, indication: str, m: int, seed: int):
        self.ind, self.m = indication, m
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, _SEEDS[indication]]))
        # Its own stream, so that adding serology left every other drawn value as it was.
        self.stream = [seed, _SEEDS[indication]]
        self.serology_rng = np.random.default_rng(np.random.SeedSequence([*self.stream, 1]))
        self.ids = np.array([f"SYN-{indication}-{i + 1:04d}" for i in range(m)])
        self._obs: list[pd.DataFrame] = []
        self._events: list[pd.DataFrame] = []
        self._patients()
        self._visits()
        self._common_labs()
        {"SLE": self._lupus, "SSC": self._sclerosis, "IIM": self._myositis}[indication]()
        self._serology()
        self._treatment()
        self.observations = pd.concat(self._obs, ignore_index=True).sort_values(
            ["patient_id", "day", "code"], kind="stable"
        )
        self.events = pd.concat(self._events, ignore_index=True)

    # -- helpers ---------------------------------------------------------------------------------
    def u(self, lo, hi, shape=None):
        return self.rng.uniform(lo, hi, self.m if shape is None else shape)

    def col(self, x):
        return np.asarray(x, dtype=float)[:, None]

    def add(self, code, days, values, mask=None, decimals=2, unit=None, **extra):
        """Observations of `code` on the visit days (m x k), where `mask` is True."""
        days = np.asarray(days)
        values = np.round(np.asarray(values, dtype=float), decimals)
        keep = days <= self.col(self.follow_up)
        if mask is not None:
            keep &= mask
        ii, jj = np.nonzero(keep)
        frame = pd.DataFrame(
            {
                "patient_id": self.ids[ii],
                "day": days[ii, jj].astype(int),
                "code": code,
                "value": values[ii, jj],
                "unit": unit or _units()[code],
                "specimen": "blood",
                "source_id": SYNTHETIC_SOURCE_ID,
                # A matrix is per visit (a qualifier), anything else the same for every row.
                **{k: (v[ii, jj] if np.ndim(v) == 2 else v) for k, v in extra.items()},
            }
        )
        self._obs.append(frame)

    def event(self, mask, **values):
        rows = pd.DataFrame({"patient_id": self.ids[mask], "source_id": SYNTHETIC_SOURCE_ID})
        for key, value in values.items():
            rows[key] = np.asarray(value)[mask] if np.ndim(value) else value
        self._events.append(rows)

    def decay(self, t, start, end, tau):
        """From `start` at day 0 towards `end`, with time constant `tau` (days)."""
        return self.col(end) + (self.col(start) - self.col(end)) * np.exp(
            -np.clip(t, 0, None) / self.col(tau)
        )

    # -- who and when ----------------------------------------------------------------------------
    def _patients(self):
        rng, m = self.rng, self.m
        female = rng.random(m) < {"SLE": 0.85, "SSC": 0.7, "IIM": 0.6}[self.ind]
        lo, hi = {"SLE": (18, 45), "SSC": (30, 65), "IIM": (25, 70)}[self.ind]
        names = DIAGNOSES[self.ind]
        self.subtype = rng.integers(0, len(names), m)
        self.follow_up = rng.integers(180, 480, m)
        self.recovery = np.clip(rng.normal(RECOVERY_MEAN, RECOVERY_SD, m), 50, 200).round()
        self.patients = pd.DataFrame(
            {
                "patient_id": self.ids,
                "source_id": SYNTHETIC_SOURCE_ID,
                "cohort": COHORT,
                "sex": np.where(female, "F", "M"),
                "age_years": np.round(rng.uniform(lo, hi, m), 1),
                "diagnosis": np.array(names)[self.subtype],
                "indication": self.ind,
                "disease_duration_years": np.round(rng.uniform(1.5, 10, m), 1),
                "prior_therapies": "Glucocorticoids, mycophenolate mofetil and at least one "
                "further line (synthetic)",
                "product": PRODUCT,
                "cell_dose_per_kg": 1e6,
                "follow_up_days": self.follow_up,
                "synthetic": True,
            }
        )

    def _visits(self):
        jitter = self.rng.integers(-2, 3, (self.m, len(VISITS)))
        jitter[:, :2] = 0  # baseline and day 7 as planned
        self.days = VISITS[None, :] + jitter
        self.t = self.days.astype(float)
        a = np.searchsorted(VISITS, ASSESSMENTS)
        self.assess_days, self.assess_t = self.days[:, a], self.t[:, a]

    # -- what every CAR T recipient has measured ------------------------------------------------
    def _common_labs(self):
        t, col, u = self.t, self.col, self.u
        dip = np.exp(-(((t - 9) / 8) ** 2))  # lymphodepletion nadir around day 7-14
        self.add("ANC", self.days, col(u(2.5, 6)) * (1 - col(u(0.6, 0.9)) * dip))
        self.add("LYMPH", self.days, col(u(0.9, 2.2)) * (1 - col(u(0.7, 0.9)) * dip))
        self.add("HGB", self.days, col(u(11, 13.5)) - col(u(0.5, 2)) * dip, decimals=1)
        self.add("PLT", self.days, col(u(180, 350)) * (1 - col(u(0.2, 0.5)) * dip), decimals=0)
        igg = col(u(8, 13)) * (1 - col(u(0.1, 0.3)) * (1 - np.exp(-np.clip(t, 0, None) / 60)))
        self.add("IGG", self.days, igg, decimals=1)
        # CAR T cells: expansion to a peak on day 7-14, then contraction (clinical-rules §5).
        peak, tmax = u(8, 80), self.rng.choice([7, 14], self.m)
        cart = np.where(t <= col(tmax), col(peak) * np.clip(t, 0, None) / col(tmax),
                        col(peak) * np.exp(-(t - col(tmax)) / col(u(12, 25))))  # fmt: skip
        below = cart[:, 1:] < 0.5  # below the assay's limit: stored as "<0.5"
        self.add("CART", self.days[:, 1:], np.where(below, 0.5, cart[:, 1:]),
                 qualifier=np.where(below, "<", None))  # fmt: skip
        # CD19+ B cells: gone from day 7, back from the recovery day.
        base = u(80, 300)
        back = np.clip((t - col(self.recovery)) / 60, 0, 1)
        cd19 = np.where(t < 7, col(base), np.where(t < col(self.recovery), 0.5,
                                                   col(base) * (0.3 + 0.7 * back)))  # fmt: skip
        depleted = cd19 < 1
        self.add("CD19", self.days, np.where(depleted, 1.0, cd19), decimals=1,
                 qualifier=np.where(depleted, "<", None))  # fmt: skip

    # -- lupus: SLEDAI-2K items, PGA, serology, kidneys -------------------------------------------
    def _lupus(self):
        rng, m, u, col = self.rng, self.m, self.u, self.col
        t = self.assess_t
        nephritis = self.subtype == 1
        responder = rng.random(m) < 0.85
        k = t.shape[1]
        present = {}
        chance = {"ARTHRITIS": 0.6, "RASH": 0.5, "ALOPECIA": 0.3, "MUCOSAL": 0.25,
                  "PLEURISY": 0.1, "FEVER": 0.1, "LEUKO": 0.2, "THROMBO": 0.1}  # fmt: skip
        for item, p in chance.items():
            active = rng.random(m) < p
            ends = np.where(responder, u(14, 90), np.where(rng.random(m) < 0.5, 10**6, u(30, 90)))
            present[item] = active[:, None] & (t < col(ends))
        # Serology and kidneys from the values, so that items and values agree.
        dsdna0 = np.where(rng.random(m) < 0.85, u(60, 400), u(3, 9))
        dsdna = self.decay(t, dsdna0, u(3, 9), np.where(responder, u(30, 80), u(200, 400)))
        c3 = 1.1 - self.decay(t, u(0.3, 0.7), u(-0.2, 0.1), u(30, 70))
        c4 = 0.2 - self.decay(t, u(0.08, 0.15), u(-0.1, 0.0), u(30, 70))
        upcr = np.where(nephritis[:, None], self.decay(t, u(1, 4), u(0.1, 0.3), u(30, 60)),
                        col(u(0.05, 0.2)) + 0 * t)  # fmt: skip
        present["DNA"] = dsdna > 10
        present["LOWCOMP"] = (c3 < 0.9) | (c4 < 0.1)
        present["PROTEINURIA"] = upcr > 0.5
        present["HEMATURIA"] = (nephritis & (rng.random(m) < 0.5))[:, None] & (upcr > 1.0)
        recorded = rng.random((m, k)) > 0.04  # now and then a visit's items are not recorded
        total = np.zeros((m, k))
        for item, weight in remission.WEIGHTS.items():
            value = present.get(item, np.zeros((m, k), dtype=bool)).astype(float)
            self.add(f"SLEDAI_{item}", self.assess_days, value, recorded, decimals=0)
            total += weight * value
        # The clinic's total beside its items, as eCRFs keep both (the rule adds the items up).
        self.add("SLEDAI2K", self.assess_days, total, recorded, decimals=0)
        pga = np.where(responder[:, None], self.decay(t, u(1.5, 2.5), u(0, 0.4), u(20, 45)),
                       self.decay(t, u(1.5, 2.5), u(0.5, 1.2), u(30, 60)))  # fmt: skip
        self.add("PGA_SLE", self.assess_days, pga, decimals=1)
        self.add("DSDNA", self.assess_days, dsdna, decimals=0)
        self.add("C3", self.assess_days, c3, decimals=2)
        self.add("C4", self.assess_days, c4, decimals=2)
        self.add("UPCR", self.assess_days, upcr, decimals=2)
        egfr = np.where(nephritis[:, None], self.decay(t, u(45, 80), u(70, 105), u(60, 120)),
                        col(u(85, 120)) + 0 * t)  # fmt: skip
        self.add("EGFR", self.assess_days, egfr, decimals=0)
        self.add("CRP", self.days, col(u(1, 8)) + 0 * self.t, decimals=1)
        self.taper = np.where(responder, rng.choice([0.0, 0.0, 0.0, 5.0, 7.5], m), 7.5)

    # -- systemic sclerosis: skin, lungs, the revised EUSTAR items ---------------------------
    def _sclerosis(self):
        rng, m, u, col = self.rng, self.m, self.u, self.col
        t = self.assess_t
        mrss0 = u(14, 35)
        self.add("MRSS", self.assess_days, self.decay(t, mrss0, mrss0 * u(0.4, 0.8), u(90, 180)),
                 decimals=0)  # fmt: skip
        self.add("FVC_PCT", self.assess_days, self.decay(t, u(55, 85), u(65, 95), u(120, 240)),
                 decimals=0)  # fmt: skip
        self.add("DLCO_PCT", self.assess_days, self.decay(t, u(40, 75), u(50, 80), u(120, 240)),
                 decimals=0)  # fmt: skip
        crp = self.decay(self.t, u(4, 25), u(1, 5), u(20, 60))
        self.add("CRP", self.days, crp, decimals=1)
        for code, p, until in (("SKIN_WORSE", 0.7, (20, 90)), ("DIGITAL_ULCERS", 0.3, (60, 200)),
                               ("TFR", 0.25, (60, 200))):  # fmt: skip
            active = (rng.random(m) < p)[:, None] & (t < col(u(*until)))
            self.add(code, self.assess_days, active.astype(float), decimals=0)
        self.taper = rng.choice([0.0, 0.0, 5.0], m)
        # ACR-CRISS inputs beside mRSS and FVC: the globals (0-10) and HAQ-DI, falling after the
        # infusion (a stream of their own, so that the values above are as they were).
        extra = np.random.default_rng(np.random.SeedSequence([*self.stream, 2]))
        for code, lo, hi, end_lo, end_hi, d in (("PGA", 4, 7, 0.5, 3, 1),
                                                ("PARENT_GA", 4, 8, 1, 4, 1),
                                                ("CHAQ", 0.8, 2.0, 0.2, 1.0, 3)):  # fmt: skip
            start, end = extra.uniform(lo, hi, m), extra.uniform(end_lo, end_hi, m)
            tau = extra.uniform(40, 120, m)
            self.add(code, self.assess_days, self.decay(t, start, end, tau), decimals=d,
                     note="HAQ disability index (adult)" if code == "CHAQ" else None)  # fmt: skip

    # -- adult myositis: enzymes and the core set, MMT8 on the bilateral scale ------------------
    def _myositis(self):
        m, u = self.m, self.u
        t, ta = self.t, self.assess_t
        tau = u(15, 35)
        for code, lo, hi, end in (("CK", 1000, 15000, (60, 180)), ("LDH", 300, 900, (150, 220)),
                                  ("ALDOLASE", 10, 40, (3, 7)), ("AST", 60, 300, (15, 30)),
                                  ("ALT", 60, 250, (15, 35))):  # fmt: skip
            value = self.decay(t, u(lo, hi), u(*end), tau)
            self.add(code, self.days, value, decimals=1 if code == "ALDOLASE" else 0)
        mmt0 = u(95, 130)
        self.add("MMT8", self.assess_days, 150 - self.decay(ta, 150 - mmt0, u(0, 8), u(40, 90)),
                 decimals=0, scale_max=150.0)  # fmt: skip
        for code, lo, hi, end_lo, end_hi, d in (("PGA", 4, 7, 0.2, 1.5, 1),
                                                ("PARENT_GA", 4, 8, 0.5, 2.0, 1),
                                                ("EXTRAMUSC", 2, 6, 0, 1, 1),
                                                ("CHAQ", 0.8, 2.0, 0.1, 0.6, 3)):  # fmt: skip
            value = self.decay(ta, u(lo, hi), u(end_lo, end_hi), u(30, 70))
            self.add(code, self.assess_days, value, decimals=d,
                     note="HAQ disability index (adult)" if code == "CHAQ" else None)  # fmt: skip
        self.add("CRP", self.days, self.decay(t, u(3, 20), u(1, 4), u(20, 50)), decimals=1)
        self.taper = self.rng.choice([0.0, 0.0, 5.0], m)

    # -- autoantibodies -------------------------------------------------------------------------
    def _serology(self):
        rng, m = self.serology_rng, self.m
        days = self.days[:, np.searchsorted(VISITS, SEROLOGY_VISITS)]
        t = days.astype(float)
        turns = rng.random(m) < SEROCONVERSION_SHARE
        negative_from = np.where(turns, rng.choice(SEROLOGY_VISITS[1:], m), 10**6)
        # Borderline at the visit before the first negative one, now and then.
        borderline_first = turns & (rng.random(m) < 0.4)
        previous = np.select([negative_from == 180, negative_from == 365], [90, 180], 10**6)
        result = np.where(t >= self.col(negative_from) - 3, "negative", "positive")
        result = np.where(borderline_first[:, None] & (np.abs(t - self.col(previous)) <= 3),
                          "borderline", result)  # fmt: skip
        codes = ANTIBODIES[self.ind]
        # Myositis: anti-Jo-1 in antisynthetase syndrome, anti-MDA5 in dermatomyositis.
        which = self.subtype if len(codes) > 1 else np.zeros(m, dtype=int)
        for index, code in enumerate(codes):
            mask = np.broadcast_to((which == index)[:, None], days.shape)
            self.add(code, days, np.full(days.shape, np.nan), mask, unit="{titer}",
                     interpretation=result)  # fmt: skip
        self.patients["autoantibody"] = [ANTIBODY_NAMES[codes[i]] for i in which]
        if self.ind == "SLE":
            titre = np.where(t > 0, rng.choice([160.0, 320.0], (m, len(SEROLOGY_VISITS))), 640.0)
            self.add("ANA", days, titre, unit="{titer}", decimals=0,
                     interpretation=np.full(days.shape, "positive"))  # fmt: skip

    # -- treatment and safety ---------------------------------------------------------------------
    def _treatment(self):
        rng, m, u = self.rng, self.m, self.u
        every = np.ones(m, dtype=bool)
        apheresis = rng.integers(-28, -14, m)
        self.event(every, kind="apheresis", name="Leukapheresis", start_day=apheresis,
                   end_day=apheresis)  # fmt: skip
        self.event(every, kind="lymphodepletion", name="Fludarabine", start_day=-5, end_day=-3,
                   dose=25.0, dose_unit="mg/m2", dose_basis="per_day")  # fmt: skip
        self.event(every, kind="lymphodepletion", name="Cyclophosphamide", start_day=-3,
                   end_day=-3, dose=1000.0, dose_unit="mg/m2", dose_basis="per_dose")  # fmt: skip
        self.event(every, kind="infusion", name="CD19 CAR T infusion", start_day=0, end_day=0,
                   dose=1e6, dose_unit="cells/kg", dose_basis="per_dose")  # fmt: skip
        # Immunosuppression stopped before the infusion; glucocorticoids tapered after it, to 0
        # or to a low maintenance dose (self.taper).
        stop = rng.integers(-21, -7, m)
        self.event(every, kind="medication", name="Mycophenolate mofetil", start_day=-365,
                   end_day=stop, dose=2000.0, dose_unit="mg/day", drug_class="immunosuppressant",
                   note="Stopped before the CAR T infusion (synthetic).")  # fmt: skip
        start_dose = np.round(u(7.5, 20) * 2) / 2
        taper_day = rng.integers(21, 60, m)
        self.event(every, kind="medication", name="Prednisolone", start_day=-180,
                   end_day=taper_day - 1, dose=start_dose, dose_unit="mg/day")  # fmt: skip
        low = self.taper > 0
        off_day = taper_day + rng.integers(14, 60, m)
        self.event(~low, kind="medication", name="Prednisolone", start_day=taper_day,
                   end_day=np.minimum(off_day, self.follow_up), dose=2.5,
                   dose_unit="mg/day", note="Tapered off (synthetic).")  # fmt: skip
        self.event(low, kind="medication", name="Prednisolone", start_day=taper_day,
                   end_day=self.follow_up, dose=self.taper, dose_unit="mg/day",
                   note="Maintenance dose (synthetic).")  # fmt: skip
        if self.ind == "SLE":
            hcq = rng.random(m) < 0.6
            self.event(hcq, kind="medication", name="Hydroxychloroquine", start_day=-365,
                       end_day=self.follow_up, dose=200.0, dose_unit="mg/day",
                       drug_class="antimalarial")  # fmt: skip
        # CRS: grade 1 in most, grade 2 in a few; ICANS grade 1 now and then (Müller 2024) [C].
        # Every patient was monitored for both: grade 0 is "assessed, not observed".
        draw = rng.random(m)
        grade = np.where(draw < 0.07, 2, np.where(draw < 0.72, 1, 0))
        onset = rng.integers(1, 4, m)
        crs = grade > 0
        end = onset + rng.integers(1, 4, m)
        icans = rng.random(m) < 0.07
        rows = [
            pd.DataFrame({
                "patient_id": self.ids, "term": "Cytokine release syndrome", "grade": grade,
                "grading_system": "ASTCT 2019", "onset_day": np.where(crs, onset, np.nan),
                "end_day": np.where(crs, end, np.nan), "serious": False,
                "source_id": SYNTHETIC_SOURCE_ID,
            }),
            pd.DataFrame({
                "patient_id": self.ids,
                "term": "Immune effector cell-associated neurotoxicity syndrome",
                "grade": icans.astype(int), "grading_system": "ASTCT 2019",
                "onset_day": np.where(icans, 5, np.nan), "end_day": np.where(icans, 6, np.nan),
                "serious": False, "source_id": SYNTHETIC_SOURCE_ID,
            }),
        ]  # fmt: skip
        events = pd.concat(rows, ignore_index=True)
        events["onset_day"] = events["onset_day"].astype("Int64")
        events["end_day"] = events["end_day"].astype("Int64")
        self.adverse_events = events
