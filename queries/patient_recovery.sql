-- One patient's neutrophil recovery and CK normalisation (table patient_recovery).
-- access: patient
SELECT * FROM patient_recovery WHERE patient_id = $patient_id
