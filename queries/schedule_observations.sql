-- Every dated value of the codes the follow-up schedule expects ($codes): the input of the
-- completeness grid (carta/measures/completeness.py, table follow_up_completeness).
SELECT DISTINCT patient_id, day, code
FROM observations
WHERE day IS NOT NULL AND list_contains($codes, code)
ORDER BY patient_id, day, code
