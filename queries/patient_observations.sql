-- Every observation of one patient with its parameter's label, domain and display order and its
-- source, ordered for plotting.
SELECT
    o.day,
    o.code,
    m.label,
    m.domain,
    m.sort AS parameter_sort,
    m.log_scale,
    o.value,
    o.unit,
    coalesce(o.ref_low, m.ref_low) AS ref_low,
    coalesce(o.ref_high, m.ref_high) AS ref_high,
    o.specimen,
    o.qualifier,
    o.source_id,
    s.kind AS source_kind,
    o.note
FROM observations o
JOIN parameters m USING (code)
JOIN sources s ON s.source_id = o.source_id
WHERE o.patient_id = $patient_id
ORDER BY m.sort, o.specimen, o.day
