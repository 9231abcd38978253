-- One patient's observations that the source reports without an exact day, with the timing as
-- reported ("week 2"): listed on the screens, never placed at a guessed day.
-- access: patient
SELECT o.code, m.label, o.specimen, o.value, o.unit, o.qualifier, o.timing, o.note
FROM observations o
JOIN parameters m USING (code)
WHERE o.patient_id = $patient_id AND o.day IS NULL
ORDER BY m.sort, o.specimen
