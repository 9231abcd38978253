-- One patient's remission and low-disease-activity definitions at each visit window (table
-- remission_by_timepoint), for the remission strip of the trajectory and the case summary.
-- access: patient
SELECT *
FROM remission_by_timepoint
WHERE patient_id = $patient_id
ORDER BY timepoint_sort, definition
