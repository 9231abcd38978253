-- Every value of one patient within $window days of study day $day (inclusive), nearest first, with
-- its multiple of the upper limit of normal, its CTCAE grade (derived table lab_grades, with
-- whether it rests on the dictionary's default range and the patient's baseline grade day) and its
-- source: the table under the trajectory chart.
-- access: patient
SELECT
    o.day,
    o.day - $day AS offset_days,
    o.code,
    m.label,
    o.value,
    o.unit,
    o.qualifier,
    o.specimen,
    coalesce(o.ref_low, m.ref_low) AS ref_low,
    coalesce(o.ref_high, m.ref_high) AS ref_high,
    o.value / nullif(coalesce(o.ref_high, m.ref_high), 0) AS x_uln,
    g.grade,
    g.range_default,
    g.day >= 1 AS after_infusion,
    s.kind AS source_kind,
    o.source_id,
    o.note
FROM observations o
JOIN parameters m USING (code)
JOIN sources s ON s.source_id = o.source_id
LEFT JOIN lab_grades g
    ON g.patient_id = o.patient_id AND g.day = o.day AND g.code = o.code
    AND g.specimen = o.specimen
WHERE o.patient_id = $patient_id AND o.day BETWEEN $day - $window AND $day + $window
ORDER BY abs(o.day - $day), o.day, m.sort, o.specimen
