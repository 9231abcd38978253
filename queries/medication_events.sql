-- Every medication and treatment-withdrawal event: the input of the exposure rules
-- (carta/measures/exposure.py, table patient_exposure).
SELECT patient_id, kind, name, start_day, end_day, dose, dose_unit, dose_basis, drug_class
FROM events
WHERE kind IN ('medication', 'withdrawal')
ORDER BY patient_id, start_day NULLS LAST, name
