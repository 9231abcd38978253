-- The missing and overdue cells of the follow-up completeness grid (table
-- follow_up_completeness): the input of the data-quality checks (carta/measures/quality.py), for
-- patients $first_patient to $last_patient (by id): the publish checks a batch at a time.
SELECT *
FROM follow_up_completeness
WHERE status IN ('missing', 'overdue') AND patient_id BETWEEN $first_patient AND $last_patient
ORDER BY patient_id, visit_sort, measure_group
