-- Per visit window and remission definition (table remission_by_timepoint, the store's windows),
-- among the patients in $patients: how many were decided, how many met the definition, and how
-- many are undecided because an input is missing. Counted in the database, never per row.
SELECT
    timepoint,
    any_value(timepoint_sort) AS timepoint_sort,
    definition,
    count(*) FILTER (WHERE met IS NOT NULL) AS decided,
    count(*) FILTER (WHERE met) AS met,
    count(*) FILTER (WHERE met IS NULL) AS undecided
FROM remission_by_timepoint
WHERE patient_id IN (SELECT unnest($patients))
GROUP BY timepoint, definition
ORDER BY timepoint_sort, definition
