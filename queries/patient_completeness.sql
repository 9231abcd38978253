-- One patient's follow-up completeness grid (table follow_up_completeness): the completeness
-- page's visits x measures grid.
-- access: patient
SELECT c.*
FROM follow_up_completeness c
WHERE c.patient_id = $patient_id
ORDER BY c.visit_sort, c.measure_group
