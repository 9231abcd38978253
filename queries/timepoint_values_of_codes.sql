-- The derived value at each visit window (table timepoint_values) of the parameters in $codes,
-- with the window's display order: the input of the response criteria. Patients $first_patient to
-- $last_patient (by id) only: the publish computes a batch of patients at a time.
SELECT patient_id, timepoint, timepoint_sort, nominal_day, code, day, value, qualifier, ref_high,
    scale_max
FROM timepoint_values
WHERE list_contains($codes, code) AND patient_id BETWEEN $first_patient AND $last_patient
ORDER BY patient_id, timepoint_sort, code
