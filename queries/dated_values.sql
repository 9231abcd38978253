-- Every dated stored value: the input of the data-quality checks (carta/measures/quality.py).
SELECT patient_id, day, code, value
FROM observations
WHERE day IS NOT NULL
ORDER BY patient_id, day, code
