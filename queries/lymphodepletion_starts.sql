-- Each patient's first dated lymphodepletion day: the end of the window CAR-HEMATOTOX reads.
-- Patients $first_patient to $last_patient (by id) only.
SELECT patient_id, min(start_day) AS start_day
FROM events
WHERE kind = 'lymphodepletion' AND start_day IS NOT NULL
    AND patient_id BETWEEN $first_patient AND $last_patient
GROUP BY patient_id
ORDER BY patient_id
