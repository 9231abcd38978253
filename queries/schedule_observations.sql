-- Every dated value of the codes the follow-up schedule expects ($codes) of patients
-- $first_patient to $last_patient (by id): the input of the completeness grid
-- (carta/measures/completeness.py, table follow_up_completeness) and of the data-quality checks,
-- which the publish makes a batch of patients at a time.
SELECT DISTINCT patient_id, day, code
FROM observations
WHERE day IS NOT NULL AND list_contains($codes, code)
    AND patient_id BETWEEN $first_patient AND $last_patient
ORDER BY patient_id, day, code
