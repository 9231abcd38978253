-- Per source (site) and visit, of the patients in $patients: the expected measure groups whose
-- window has opened by the data cut, how many are done, and the share done (table
-- follow_up_completeness; "not yet due" cells are not counted).
SELECT
    p.source_id,
    c.visit,
    c.visit_sort,
    count(DISTINCT c.patient_id) AS patients,
    count(*) AS expected,
    count(*) FILTER (WHERE c.status = 'done') AS done,
    round(100.0 * count(*) FILTER (WHERE c.status = 'done') / count(*), 1) AS done_percent
FROM follow_up_completeness c
JOIN patients p USING (patient_id)
WHERE list_contains($patients, c.patient_id) AND c.status <> 'not yet due'
GROUP BY p.source_id, c.visit, c.visit_sort
ORDER BY c.visit_sort, p.source_id
