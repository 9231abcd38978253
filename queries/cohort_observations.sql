-- Every observation of the patients in $patients, with its source (id and kind; the citation is
-- in the sources table): the filtered long data as a download, read in record batches. No ORDER
-- BY: sorting a registry's rows would hold them all; they come in store order (as imported).
SELECT o.patient_id, o.day AS study_day, o.code, m.label AS parameter, o.value, o.unit,
    o.qualifier, o.specimen, coalesce(o.ref_low, m.ref_low) AS ref_low,
    coalesce(o.ref_high, m.ref_high) AS ref_high, o.source_id, s.kind AS source_kind, o.note
FROM observations o
JOIN parameters m USING (code)
JOIN sources s ON s.source_id = o.source_id
WHERE o.patient_id IN (SELECT unnest($patients))
