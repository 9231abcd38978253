-- Every observation of the patients in $patients, with its source: the filtered long data as a
-- download. Read in record batches, so a whole registry is never held in memory.
SELECT o.patient_id, o.day AS study_day, o.code, m.label AS parameter, o.value, o.unit,
    o.qualifier, o.specimen, coalesce(o.ref_low, m.ref_low) AS ref_low,
    coalesce(o.ref_high, m.ref_high) AS ref_high, o.source_id, s.kind AS source_kind,
    s.citation AS source_citation, o.note
FROM observations o
JOIN parameters m USING (code)
JOIN sources s ON s.source_id = o.source_id
WHERE o.patient_id IN (SELECT unnest($patients))
ORDER BY o.patient_id, o.day, o.code
