-- TIS category and CID per patient at each visit window of the store (table
-- response_by_timepoint, computed with the store's windows and settings), for $patients.
SELECT patient_id, timepoint, timepoint_sort, tis, category, complete, cid, cid_n_met,
    cid_n_assessed
FROM response_by_timepoint
WHERE patient_id IN (SELECT unnest($patients))
ORDER BY patient_id, timepoint_sort
