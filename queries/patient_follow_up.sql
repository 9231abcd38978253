-- Every patient id with the follow-up in days (NULL when the source gives no day count).
-- access: patient
SELECT patient_id, follow_up_days FROM patients ORDER BY patient_id
