-- Carta store schema. Every column is documented in docs/data-dictionary.md; a change here is a
-- schema change: bump SCHEMA_VERSION in carta/store.py and say how to migrate.
-- Large tables carry no key or foreign-key constraints: DuckDB checks them row by row on insert,
-- which would dominate the build of a registry-sized store; validation happens in carta/ingest.

CREATE TABLE store_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE sources (
    source_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL CHECK (kind IN ('published', 'synthetic', 'site')),
    citation VARCHAR NOT NULL,
    doi VARCHAR,
    data_cut DATE,
    note VARCHAR
);

CREATE TABLE patients (
    patient_id VARCHAR PRIMARY KEY,
    source_id VARCHAR NOT NULL,
    cohort VARCHAR NOT NULL,
    sex VARCHAR CHECK (sex IN ('M', 'F')),
    age_years DOUBLE CHECK (age_years >= 0),
    race VARCHAR,
    ethnicity VARCHAR,
    country VARCHAR,
    arm VARCHAR,
    day0_basis VARCHAR,
    diagnosis VARCHAR,
    indication VARCHAR,
    autoantibody VARCHAR,
    disease_duration_years DOUBLE CHECK (disease_duration_years >= 0),
    prior_therapies VARCHAR,
    product VARCHAR,
    cell_dose_per_kg DOUBLE CHECK (cell_dose_per_kg > 0),
    follow_up_days INTEGER CHECK (follow_up_days >= 0),
    follow_up_reported VARCHAR,
    synthetic BOOLEAN NOT NULL
);

CREATE TABLE parameters (
    code VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL,
    domain VARCHAR NOT NULL
        CHECK (domain IN ('enzyme', 'inflammation', 'hematology', 'cellular', 'immunoglobulin',
                          'chemistry', 'coagulation', 'urinalysis', 'vital', 'score',
                          'serology', 'function')),
    unit VARCHAR NOT NULL,
    loinc VARCHAR,
    scale_min DOUBLE,
    scale_max DOUBLE,
    better VARCHAR CHECK (better IN ('lower', 'higher')),
    ref_low DOUBLE,
    ref_high DOUBLE,
    log_scale BOOLEAN NOT NULL,
    sort INTEGER NOT NULL,
    source_note VARCHAR NOT NULL
);

CREATE TABLE observations (
    patient_id VARCHAR NOT NULL,
    day INTEGER,
    code VARCHAR NOT NULL,
    value DOUBLE,
    unit VARCHAR NOT NULL,
    ref_low DOUBLE,
    ref_high DOUBLE,
    specimen VARCHAR NOT NULL CHECK (specimen IN ('blood', 'bone_marrow', 'urine')),
    qualifier VARCHAR CHECK (qualifier IN ('<', '>', 'not_detected')),
    source_id VARCHAR NOT NULL,
    note VARCHAR,
    timing VARCHAR,
    day_earliest INTEGER,
    day_latest INTEGER,
    day_precision VARCHAR CHECK (day_precision IN ('year', 'month')),
    scale_max DOUBLE,
    interpretation VARCHAR CHECK (interpretation IN ('negative', 'borderline', 'positive')),
    CHECK (value IS NOT NULL OR qualifier = 'not_detected' OR interpretation IS NOT NULL),
    CHECK (day IS NOT NULL OR timing IS NOT NULL OR day_precision IS NOT NULL),
    CHECK (day_latest IS NULL OR day_earliest IS NULL OR day_latest >= day_earliest)
);

-- Results of tests the dictionary does not know, kept with their own code, name and unit: shown
-- in a table, never graded, drawn or scored.
CREATE TABLE other_observations (
    patient_id VARCHAR NOT NULL,
    day INTEGER,
    day_earliest INTEGER,
    day_latest INTEGER,
    day_precision VARCHAR CHECK (day_precision IN ('year', 'month')),
    test_code VARCHAR NOT NULL,
    test_name VARCHAR,
    category VARCHAR,
    value DOUBLE,
    result_text VARCHAR,
    unit VARCHAR,
    ref_low DOUBLE,
    ref_high DOUBLE,
    specimen VARCHAR,
    source_id VARCHAR NOT NULL,
    note VARCHAR,
    CHECK (value IS NOT NULL OR result_text IS NOT NULL)
);

CREATE TABLE events (
    patient_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('apheresis', 'lymphodepletion', 'infusion', 'withdrawal',
        'medication', 'procedure', 'hospitalisation', 'follow_up')),
    name VARCHAR NOT NULL,
    start_day INTEGER,
    end_day INTEGER,
    dose DOUBLE,
    dose_unit VARCHAR,
    dose_basis VARCHAR CHECK (dose_basis IN ('total', 'per_day', 'per_dose')),
    route VARCHAR,
    drug_class VARCHAR,
    start_earliest INTEGER,
    start_latest INTEGER,
    start_precision VARCHAR CHECK (start_precision IN ('year', 'month')),
    source_id VARCHAR NOT NULL,
    note VARCHAR,
    CHECK (end_day IS NULL OR start_day IS NULL OR end_day >= start_day)
);

CREATE TABLE adverse_events (
    patient_id VARCHAR NOT NULL,
    term VARCHAR NOT NULL,
    grade INTEGER CHECK (grade BETWEEN 0 AND 5),
    grading_system VARCHAR NOT NULL,
    severity VARCHAR,
    onset_day INTEGER,
    end_day INTEGER,
    serious BOOLEAN,
    treatment VARCHAR,
    organ VARCHAR,
    onset_earliest INTEGER,
    onset_latest INTEGER,
    onset_precision VARCHAR CHECK (onset_precision IN ('year', 'month')),
    source_id VARCHAR NOT NULL,
    note VARCHAR,
    CHECK (grade IS NOT NULL OR severity IS NOT NULL),
    CHECK (end_day IS NULL OR onset_day IS NULL OR end_day >= onset_day)
);

CREATE TABLE imaging (
    patient_id VARCHAR NOT NULL,
    day INTEGER NOT NULL,
    modality VARCHAR NOT NULL,
    sequence VARCHAR,
    region VARCHAR NOT NULL,
    finding VARCHAR NOT NULL,
    side VARCHAR CHECK (side IN ('left', 'right', 'bilateral')),
    grade DOUBLE,
    scale VARCHAR,
    summary VARCHAR,
    source_id VARCHAR NOT NULL
);

CREATE TABLE reported_findings (
    patient_id VARCHAR NOT NULL,
    day INTEGER,
    timing VARCHAR NOT NULL,
    domains VARCHAR NOT NULL,
    statement VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL
);

-- A source's own follow-up schedule, replacing the default (data/reference/visit_schedule.csv)
-- for its patients: visits with their windows in study days and the measure groups expected at
-- each (data/reference/schedule_measures.csv). Windows of one source do not overlap.
CREATE TABLE visit_schedules (
    source_id VARCHAR NOT NULL,
    visit VARCHAR NOT NULL,
    nominal_day INTEGER NOT NULL,
    day_from INTEGER NOT NULL,
    day_to INTEGER NOT NULL,
    expected VARCHAR NOT NULL,
    note VARCHAR,
    CHECK (day_from <= nominal_day AND nominal_day <= day_to)
);

CREATE TABLE timepoints (
    name VARCHAR PRIMARY KEY,
    nominal_day INTEGER NOT NULL,
    day_from INTEGER NOT NULL,
    day_to INTEGER NOT NULL,
    sort INTEGER NOT NULL,
    CHECK (day_from <= nominal_day AND nominal_day <= day_to)
);

-- Adverse-event categories for the safety views: a term belongs to the first category (by
-- priority) whose pattern (a regular expression on the lower-case term) it matches.
CREATE TABLE ae_categories (
    pattern VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    priority INTEGER NOT NULL,
    source_note VARCHAR NOT NULL
);

CREATE TABLE imports (
    import_id INTEGER NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    rows_accepted BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    store_version INTEGER NOT NULL
);

-- Derived tables: computed from the tables above by carta/derive.py whenever a store version is
-- built or an import is published, with the rules of docs/rules.md and the settings recorded in
-- store_meta. They are never imported.

CREATE TABLE timepoint_values (
    patient_id VARCHAR NOT NULL,
    timepoint VARCHAR NOT NULL,
    nominal_day INTEGER NOT NULL,
    timepoint_sort INTEGER NOT NULL,
    code VARCHAR NOT NULL,
    day INTEGER NOT NULL,
    value DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    qualifier VARCHAR,
    ref_low DOUBLE,
    ref_high DOUBLE,
    scale_max DOUBLE,
    source_id VARCHAR NOT NULL
);

CREATE TABLE lab_grades (
    patient_id VARCHAR NOT NULL,
    day INTEGER NOT NULL,
    code VARCHAR NOT NULL,
    specimen VARCHAR NOT NULL,
    value DOUBLE,
    qualifier VARCHAR,
    ref_low DOUBLE,
    ref_high DOUBLE,
    range_default BOOLEAN NOT NULL,
    baseline_day INTEGER,
    baseline DOUBLE,
    term VARCHAR NOT NULL,
    grade INTEGER CHECK (grade BETWEEN 0 AND 4)
);

CREATE TABLE lab_toxicity (
    patient_id VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    term VARCHAR NOT NULL,
    baseline_day INTEGER,
    baseline_grade INTEGER CHECK (baseline_grade BETWEEN 0 AND 4),
    worst_grade INTEGER CHECK (worst_grade BETWEEN 0 AND 4),
    worst_day INTEGER,
    emergent_grade INTEGER CHECK (emergent_grade BETWEEN 0 AND 4),
    emergent_day INTEGER,
    n_graded_after INTEGER NOT NULL,
    range_default BOOLEAN NOT NULL
);

CREATE TABLE patient_kinetics (
    patient_id VARCHAR NOT NULL,
    cmax DOUBLE,
    tmax INTEGER,
    auc_0_28 DOUBLE,
    auc_from_day INTEGER,
    auc_to_day INTEGER,
    auc_covers_28 BOOLEAN,
    auc_not_evaluable VARCHAR,
    last_detectable_day INTEGER,
    last_sample_day INTEGER,
    detectable_at_last BOOLEAN,
    n_values INTEGER NOT NULL
);

CREATE TABLE bcell_aplasia (
    patient_id VARCHAR NOT NULL,
    onset_day INTEGER,
    recovery_day INTEGER,
    duration_days INTEGER,
    ongoing_at_last_value BOOLEAN,
    first_day INTEGER,
    last_day INTEGER,
    depletion_threshold DOUBLE NOT NULL,
    recovery_threshold DOUBLE NOT NULL
);

CREATE TABLE patient_recovery (
    patient_id VARCHAR NOT NULL,
    anc_nadir DOUBLE,
    anc_nadir_day INTEGER,
    severe_neutropenia BOOLEAN,
    anc_recovery_day INTEGER,
    days_anc_below_0_5_d0_30 INTEGER,
    ck_sustained_normal_day INTEGER,
    ck_normal_at_last BOOLEAN
);

CREATE TABLE patient_hematotox (
    patient_id VARCHAR NOT NULL,
    icaht_early_grade INTEGER CHECK (icaht_early_grade BETWEEN 0 AND 4),
    icaht_late_grade INTEGER CHECK (icaht_late_grade BETWEEN 0 AND 4),
    anc_days_le_500_d0_30 INTEGER,
    anc_days_le_100_d0_30 INTEGER,
    icaht_recovery_day INTEGER,
    t_icaht_early_grade INTEGER CHECK (t_icaht_early_grade BETWEEN 0 AND 4),
    t_icaht_late_grade INTEGER CHECK (t_icaht_late_grade BETWEEN 0 AND 4),
    plt_days_lt_20_d0_30 INTEGER,
    plt_recovery_day INTEGER,
    plt_below_20 BOOLEAN,
    hematotox_score INTEGER CHECK (hematotox_score BETWEEN 0 AND 7),
    hematotox_risk VARCHAR CHECK (hematotox_risk IN ('low', 'high')),
    hematotox_missing VARCHAR
);

CREATE TABLE response_by_timepoint (
    patient_id VARCHAR NOT NULL,
    timepoint VARCHAR NOT NULL,
    timepoint_sort INTEGER NOT NULL,
    tis DOUBLE CHECK (tis BETWEEN 0 AND 100),
    category VARCHAR CHECK (category IN ('none', 'minimal', 'moderate', 'major')),
    complete BOOLEAN,
    n_components INTEGER,
    partial_sum DOUBLE,
    points_physician_global DOUBLE,
    points_parent_global DOUBLE,
    points_chaq DOUBLE,
    points_enzyme DOUBLE,
    points_extramuscular DOUBLE,
    points_strength DOUBLE,
    pct_physician_global DOUBLE,
    pct_parent_global DOUBLE,
    pct_chaq DOUBLE,
    pct_enzyme DOUBLE,
    pct_extramuscular DOUBLE,
    pct_strength DOUBLE,
    code_enzyme VARCHAR,
    code_extramuscular VARCHAR,
    code_strength VARCHAR,
    measure_set VARCHAR,
    population VARCHAR,
    cid BOOLEAN,
    cid_n_met INTEGER,
    cid_n_assessed INTEGER,
    cid_criteria_met VARCHAR,
    CHECK (complete OR category IS NULL)
);

-- Glucocorticoid and immunosuppressant exposure per patient, from the medication events
-- (carta/measures/exposure.py; prednisone equivalents from data/reference/glucocorticoids.csv).
CREATE TABLE patient_exposure (
    patient_id VARCHAR NOT NULL,
    last_day INTEGER,
    glucocorticoid_events INTEGER NOT NULL,
    glucocorticoid_doses_unknown INTEGER NOT NULL,
    cumulative_pred_eq_mg DOUBLE,
    cumulative_from_day INTEGER,
    pred_eq_mg_at_last DOUBLE,
    last_glucocorticoid_day INTEGER,
    days_off_glucocorticoids INTEGER,
    immunosuppressant_events INTEGER NOT NULL,
    last_immunosuppressant_day INTEGER,
    days_off_immunosuppression INTEGER,
    withdrawal_reported BOOLEAN NOT NULL
);

-- Remission and low-disease-activity definitions per patient and visit window, for the
-- definitions the patient's indication has (data/reference/indications.csv): met is NULL when a
-- criterion is missing and none failed.
CREATE TABLE remission_by_timepoint (
    patient_id VARCHAR NOT NULL,
    timepoint VARCHAR NOT NULL,
    timepoint_sort INTEGER NOT NULL,
    nominal_day INTEGER NOT NULL,
    definition VARCHAR NOT NULL,
    met BOOLEAN,
    score DOUBLE,
    criteria_met VARCHAR,
    criteria_not_met VARCHAR,
    criteria_missing VARCHAR,
    inputs VARCHAR
);

-- Each patient's autoantibodies before and after the infusion, from the results read as
-- negative, borderline or positive (carta/measures/serology.py; a design rule, [U]).
CREATE TABLE serology_status (
    patient_id VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    results INTEGER NOT NULL,
    baseline_day INTEGER,
    baseline_result VARCHAR,
    first_negative_day INTEGER,
    last_day INTEGER,
    last_result VARCHAR,
    status VARCHAR NOT NULL
);

-- The follow-up schedule against what was measured, per patient, visit and expected measure
-- group, at the store's data cut (carta/measures/completeness.py; design rules, [U]).
CREATE TABLE follow_up_completeness (
    patient_id VARCHAR NOT NULL,
    visit VARCHAR NOT NULL,
    visit_sort INTEGER NOT NULL,
    nominal_day INTEGER NOT NULL,
    day_from INTEGER NOT NULL,
    day_to INTEGER NOT NULL,
    measure_group VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('done', 'missing', 'due', 'overdue', 'not yet due')),
    codes_missing VARCHAR,
    -- 'default' (data/reference/visit_schedule.csv), else the source whose own schedule it is
    schedule VARCHAR NOT NULL
);

-- Data-quality findings of this store version, by category of the harmonized framework (Kahn
-- 2016: conformance, completeness, plausibility), each naming the rows behind it
-- (carta/measures/quality.py; design rules, [U]).
CREATE TABLE quality_findings (
    category VARCHAR NOT NULL CHECK (category IN ('conformance', 'completeness', 'plausibility')),
    check_name VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    visit VARCHAR,
    code VARCHAR,
    day INTEGER,
    detail VARCHAR NOT NULL
);

-- The findings of every published version, counted per source and check: the trend across
-- releases. Carried from version to version by each import (a build starts a new store).
CREATE TABLE quality_history (
    store_version INTEGER NOT NULL,
    published_at TIMESTAMP NOT NULL,
    source_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    findings BIGINT NOT NULL,
    patients BIGINT NOT NULL
);
