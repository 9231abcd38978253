-- Patients and observations per kind of source, for the home page and the sidebar.
SELECT
    s.kind AS source_kind,
    count(DISTINCT p.patient_id) AS patients,
    (SELECT count(*) FROM observations o JOIN sources s2 USING (source_id) WHERE s2.kind = s.kind)
        AS observations
FROM sources s
LEFT JOIN patients p USING (source_id)
GROUP BY s.kind
ORDER BY CASE s.kind WHEN 'published' THEN 0 WHEN 'site' THEN 1 ELSE 2 END
