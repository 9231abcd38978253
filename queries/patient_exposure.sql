-- One patient's glucocorticoid and immunosuppressant exposure (table patient_exposure).
-- access: patient
SELECT *
FROM patient_exposure
WHERE patient_id = $patient_id
