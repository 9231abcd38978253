-- This version's data-quality findings counted per source and check, with the patients they
-- concern: the rows quality_history gains at each publish ($version, $published_at).
SELECT $version::INTEGER AS store_version, $published_at::TIMESTAMP AS published_at,
    coalesce(p.source_id, '') AS source_id, q.category, q.check_name,
    count(*) AS findings, count(DISTINCT q.patient_id) AS patients
FROM quality_findings q
LEFT JOIN patients p USING (patient_id)
GROUP BY ALL
ORDER BY source_id, q.category, q.check_name
