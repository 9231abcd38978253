-- One patient's CAR T kinetics (table patient_kinetics: Cmax, Tmax, AUC, last detectable day).
-- access: patient
SELECT * FROM patient_kinetics WHERE patient_id = $patient_id
