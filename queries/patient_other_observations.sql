-- One patient's results of tests the dictionary does not know (table other_observations), with
-- their own code, name, unit and range, and their source: listed, never graded or drawn.
-- access: patient
SELECT
    o.day, o.day_earliest, o.day_latest, o.day_precision,
    o.test_code, o.test_name, o.category, o.value, o.result_text, o.unit, o.ref_low, o.ref_high,
    o.specimen, s.kind AS source_kind, o.note
FROM other_observations o
JOIN sources s ON s.source_id = o.source_id
WHERE o.patient_id = $patient_id
ORDER BY coalesce(o.day, o.day_earliest), o.test_code
