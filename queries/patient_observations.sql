-- Every dated observation of one patient with its parameter's label, domain and display order, its
-- source, its value as a multiple of the upper limit of normal, its CTCAE grade (derived table
-- lab_grades) and its change from baseline.
-- Baseline (ADaM BASE, clinical-rules §6.2): the last value of the same parameter and specimen on a
-- day in [$baseline_from, $baseline_to]; CHG = value - BASE; PCHG = CHG / |BASE| x 100, missing
-- when BASE is 0. A value beyond the assay limit ('<', '>') counts as its limit. scale_max is the
-- value's own scale where it names one (MMT8 of 150), else the dictionary's.
-- access: patient
WITH patient AS (
    SELECT * FROM observations WHERE patient_id = $patient_id AND day IS NOT NULL
),
baseline AS (
    SELECT code, specimen, arg_max(value, day) AS base, max(day) AS base_day
    FROM patient
    WHERE day BETWEEN $baseline_from AND $baseline_to AND value IS NOT NULL
    GROUP BY code, specimen
)
SELECT
    o.day,
    o.code,
    m.label,
    m.domain,
    m.sort AS parameter_sort,
    m.log_scale,
    m.scale_min,
    coalesce(o.scale_max, m.scale_max) AS scale_max,
    m.better,
    o.value,
    o.unit,
    coalesce(o.ref_low, m.ref_low) AS ref_low,
    coalesce(o.ref_high, m.ref_high) AS ref_high,
    o.value / nullif(coalesce(o.ref_high, m.ref_high), 0) AS x_uln,
    b.base,
    b.base_day,
    o.value - b.base AS chg,
    (o.value - b.base) / nullif(abs(b.base), 0) * 100 AS pchg,
    o.specimen,
    o.qualifier,
    o.interpretation,
    o.source_id,
    g.grade,
    g.range_default,
    s.kind AS source_kind,
    o.note
FROM patient o
JOIN parameters m USING (code)
JOIN sources s ON s.source_id = o.source_id
LEFT JOIN lab_grades g
    ON g.patient_id = o.patient_id AND g.day = o.day AND g.code = o.code
    AND g.specimen = o.specimen
LEFT JOIN baseline b ON b.code = o.code AND b.specimen = o.specimen
ORDER BY m.sort, o.specimen, o.day
