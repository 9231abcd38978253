-- One patient's haematotoxicity (table patient_hematotox): ICAHT and T-ICAHT grades early (days
-- 0-30) and late, neutrophil and platelet recovery, and the CAR-HEMATOTOX score.
-- access: patient
SELECT * FROM patient_hematotox WHERE patient_id = $patient_id
