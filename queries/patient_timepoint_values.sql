-- One patient's values at the visit windows (table timepoint_values) for the parameters in
-- $codes: the input of the response criteria when the page recomputes them with other settings.
-- access: patient
SELECT patient_id, timepoint, timepoint_sort, nominal_day, code, day, value, qualifier, ref_high,
    scale_max
FROM timepoint_values
WHERE patient_id = $patient_id AND list_contains($codes, code)
ORDER BY timepoint_sort, code
