-- The B-cell aplasia period of each patient in $patients (table bcell_aplasia, rules in
-- docs/rules.md), with the day of the last CD19 value when the aplasia is ongoing.
SELECT patient_id, onset_day, recovery_day, duration_days, ongoing_at_last_value, last_day
FROM bcell_aplasia
WHERE onset_day IS NOT NULL AND patient_id IN (SELECT unnest($patients))
ORDER BY patient_id
