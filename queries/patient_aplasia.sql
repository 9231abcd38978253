-- One patient's B-cell aplasia period (table bcell_aplasia), with the thresholds it was found with.
-- access: patient
SELECT * FROM bcell_aplasia WHERE patient_id = $patient_id
