-- The missing and overdue cells of the follow-up completeness grid (table
-- follow_up_completeness): the input of the data-quality checks (carta/measures/quality.py).
SELECT *
FROM follow_up_completeness
WHERE status IN ('missing', 'overdue')
ORDER BY patient_id, visit_sort, measure_group
