-- The completeness grid of every patient (table follow_up_completeness): one row per patient,
-- visit of the patient's schedule and measure group expected there, with its status at the data
-- cut. The rule and its reference implementation are carta/measures/completeness.py (grid);
-- tests hold the two to the same rows. $default_visits: the default schedule (visit,
-- visit_sort, nominal_day, day_from, day_to, expected), followed by every patient whose source
-- has no rows in visit_schedules; $groups: the expected measure groups, one row per code
-- (rule: the group's row in schedule_measures.csv, measure_group, indication: '' for every
-- indication, label, codes, recorded_in, code, code_pos); $codes: the codes measured in observations.
-- Patients $first_patient to $last_patient (by id) only: the publish computes a registry's grid a
-- batch of patients at a time, so that memory stays bounded and time grows with the patients.
WITH own_visits AS (
    SELECT source_id AS schedule, visit,
        (row_number() OVER (PARTITION BY source_id ORDER BY day_from) - 1)::INTEGER AS visit_sort,
        nominal_day, day_from, day_to, expected
    FROM visit_schedules
),
visits AS (
    SELECT * FROM own_visits
    UNION ALL
    SELECT 'default', visit, visit_sort, nominal_day, day_from, day_to, expected
    FROM (SELECT unnest($default_visits, recursive := true))
),
groups AS (
    SELECT unnest($groups, recursive := true)
),
observed AS (
    SELECT DISTINCT patient_id, day, code
    FROM observations
    WHERE day IS NOT NULL AND list_contains($codes, code)
        AND patient_id BETWEEN $first_patient AND $last_patient
),
last_observed AS (
    SELECT patient_id, max(day) AS day FROM observed GROUP BY patient_id
),
-- Every patient's last day: the follow-up, else (a publication that gives it in words) the last
-- dated value of an expected measure, as the safety view does.
people AS (
    SELECT p.patient_id, coalesce(p.indication, '') AS indication,
        CASE WHEN p.follow_up_days IS NULL AND s.kind = 'published' THEN NULL
            ELSE coalesce(p.follow_up_days, a.last_day) END AS stated_last_day,
        CASE WHEN p.source_id IN (SELECT schedule FROM own_visits) THEN p.source_id
            ELSE 'default' END AS schedule
    FROM patients p
    JOIN sources s USING (source_id)
    LEFT JOIN (
        SELECT patient_id, max(day) AS last_day FROM observations
        WHERE day IS NOT NULL AND patient_id BETWEEN $first_patient AND $last_patient
        GROUP BY patient_id
    ) a USING (patient_id)
    WHERE p.patient_id BETWEEN $first_patient AND $last_patient
),
-- Windows do not overlap, so a measured day falls in one visit at most.
seen AS (
    SELECT DISTINCT o.patient_id, v.visit_sort, o.code
    FROM observed o
    JOIN people p USING (patient_id)
    JOIN visits v ON v.schedule = p.schedule AND o.day BETWEEN v.day_from AND v.day_to
),
held AS (
    SELECT DISTINCT patient_id, visit_sort FROM seen
),
graded AS (
    SELECT DISTINCT a.patient_id,
        (SELECT c.category FROM ae_categories c
         WHERE regexp_matches(lower(a.term), c.pattern)
         ORDER BY c.priority LIMIT 1) AS code,
        a.onset_day AS day
    FROM adverse_events a
    WHERE a.grade IS NOT NULL AND a.patient_id BETWEEN $first_patient AND $last_patient
),
expected_codes AS (
    SELECT p.patient_id, p.schedule, coalesce(p.stated_last_day, l.day) AS last_day,
        v.visit, v.visit_sort, v.nominal_day, v.day_from, v.day_to,
        g.rule, g.measure_group, g.label, g.codes, g.recorded_in, g.code, g.code_pos
    FROM people p
    LEFT JOIN last_observed l USING (patient_id)
    JOIN visits v ON v.schedule = p.schedule
    JOIN groups g ON list_contains(string_split(v.expected, ';'), g.measure_group)
        AND (g.indication = '' OR g.indication = p.indication)
),
pairs AS (
    SELECT e.*,
        CASE WHEN e.recorded_in = 'observations' THEN EXISTS (
                SELECT 1 FROM seen s
                WHERE s.patient_id = e.patient_id AND s.visit_sort = e.visit_sort
                    AND s.code = e.code)
            ELSE EXISTS (
                SELECT 1 FROM graded a
                WHERE a.patient_id = e.patient_id AND a.code = e.code
                    AND (a.day IS NULL OR a.day <= e.day_to))
        END AS hit
    FROM expected_codes e
),
cells AS (
    SELECT patient_id, schedule, last_day, visit, visit_sort, nominal_day, day_from, day_to,
        rule, measure_group, label,
        bool_and(hit) AS done,
        -- In the group's own order, sorted once gathered (an ordered aggregate cost a quarter
        -- of the grid's time); none missing is NULL, whether the engine gathers no list or an
        -- empty one.
        nullif(array_to_string(list_transform(
            list_sort(list({'pos': code_pos, 'code': code}) FILTER (WHERE NOT hit)),
            lambda missing: missing.code), '; '), '') AS codes_missing
    FROM pairs
    GROUP BY ALL
)
SELECT c.patient_id, c.visit, c.visit_sort, c.nominal_day, c.day_from, c.day_to,
    c.measure_group, c.label,
    CASE
        WHEN c.done THEN 'done'
        WHEN c.last_day IS NULL THEN 'missing'
        WHEN c.day_from > c.last_day THEN 'not yet due'
        WHEN c.day_to >= c.last_day THEN 'due'
        WHEN h.patient_id IS NOT NULL THEN 'missing'
        ELSE 'overdue'
    END AS status,
    c.codes_missing, c.schedule
FROM cells c
LEFT JOIN held h USING (patient_id, visit_sort)
ORDER BY c.patient_id, c.visit_sort, c.measure_group
