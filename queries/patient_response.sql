-- One patient's response at each visit window (table response_by_timepoint) with the window's
-- nominal day, for the response strip of the trajectory.
-- access: patient
SELECT r.*, t.nominal_day
FROM response_by_timepoint r
JOIN timepoints t ON t.name = r.timepoint
WHERE r.patient_id = $patient_id
ORDER BY r.timepoint_sort
