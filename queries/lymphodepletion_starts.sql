-- Each patient's first dated lymphodepletion day: the end of the window CAR-HEMATOTOX reads.
SELECT patient_id, min(start_day) AS start_day
FROM events
WHERE kind = 'lymphodepletion' AND start_day IS NOT NULL
GROUP BY patient_id
ORDER BY patient_id
