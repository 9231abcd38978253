-- Per visit window of $timepoints (names in display order) and TIS category of $categories (in
-- order): the patients of $patients evaluable for the 2016 ACR/EULAR Total Improvement Score at
-- that window (every core set measure, clinical-rules §3.1), those in the category, and the
-- patients assessed for PRINTO CID there and those who met it (§3.2). Read from table
-- response_by_timepoint, or from a frame of its columns when the windows were edited
-- (carta/measures/cohort.py, counted_responses). A window with no patient still has its rows.
WITH windows AS (
    SELECT timepoint, position AS timepoint_sort
    FROM (SELECT unnest($timepoints) AS timepoint, generate_subscripts($timepoints, 1) AS position)
),
categories AS (
    SELECT category, position AS category_sort
    FROM (SELECT unnest($categories) AS category, generate_subscripts($categories, 1) AS position)
),
chosen AS (
    SELECT timepoint, category, coalesce(complete, false) AND category IS NOT NULL AS evaluable,
        cid
    FROM response_by_timepoint
    WHERE patient_id IN (SELECT unnest($patients))
),
per_window AS (
    SELECT w.timepoint, w.timepoint_sort,
        count(*) FILTER (WHERE c.evaluable) AS evaluable,
        count(c.cid) AS cid_assessed,
        count(*) FILTER (WHERE c.cid) AS cid_met
    FROM windows w
    LEFT JOIN chosen c ON c.timepoint = w.timepoint
    GROUP BY w.timepoint, w.timepoint_sort
),
per_category AS (
    SELECT timepoint, category, count(*) AS patients
    FROM chosen
    WHERE evaluable
    GROUP BY timepoint, category
)
SELECT w.timepoint, w.timepoint_sort, k.category, k.category_sort, w.evaluable,
    coalesce(n.patients, 0) AS patients, w.cid_assessed, w.cid_met
FROM per_window w
CROSS JOIN categories k
LEFT JOIN per_category n ON n.timepoint = w.timepoint AND n.category = k.category
ORDER BY w.timepoint_sort, k.category_sort
