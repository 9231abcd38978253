-- One patient's treatment course (apheresis, lymphodepletion, infusion, medications, follow-up);
-- a NULL start_day means the source reports the event without its day.
-- access: patient
SELECT
    e.kind,
    e.name,
    e.start_day,
    e.end_day,
    e.dose,
    e.dose_unit,
    e.dose_basis,
    e.route,
    e.drug_class,
    e.start_earliest,
    e.start_latest,
    e.start_precision,
    e.source_id,
    s.kind AS source_kind,
    e.note
FROM events e
JOIN sources s ON s.source_id = e.source_id
WHERE e.patient_id = $patient_id
ORDER BY e.start_day NULLS FIRST, e.kind, e.name
