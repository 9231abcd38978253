-- One patient's B-cell aplasia period (table bcell_aplasia), with the thresholds it was found with.
SELECT * FROM bcell_aplasia WHERE patient_id = $patient_id
