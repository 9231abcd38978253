-- The checks of an observations file in Carta's format, a row each, over the rows that were read
-- whole into the import's checking database (table typed, carta/ingest/checking.py) and the
-- facts carta/ingest/observation_checks.py gives it (code_names, parameter_rules, unit_factors,
-- parameter_scales, known_patients, known_sources, writable_sources, stored_keys): `rule`, the
-- first rule that refuses the row in the order of carta/ingest/validate.py (NULL: accepted); the
-- row as it is stored (its parameter's code, its value and unit converted to the dictionary's,
-- the note saying so); what the reasons quote (the code, unit and value as written); and `far`,
-- whether its day lies more than $far_days outside the patient's follow-up (a warning).
-- database: checking
WITH resolved AS NOT MATERIALIZED (
    -- "CPK", "Creatine kinase" and 2157-6 all mean CK: code_names resolves each name once.
    SELECT t.*, coalesce(n.code, t.code) AS resolved_code
    FROM typed AS t
    LEFT JOIN code_names AS n ON n.written = t.code
    WHERE t.parse_problems IS NULL
),

named AS NOT MATERIALIZED (
    SELECT
        r.line, r.patient_id, r.day, r.specimen, r.qualifier, r.source_id, r.note, r.timing,
        r.day_earliest, r.day_latest, r.day_precision, r.scale_max, r.interpretation,
        r.code AS code_written, r.unit AS unit_written, r.value AS value_written,
        r.ref_low AS ref_low_written, r.ref_high AS ref_high_written,
        r.resolved_code AS code,
        p.code IS NOT NULL AS known,
        p.unit AS dictionary_unit, p.scale_min, p.scale_max AS dictionary_scale_max,
        p.plausible_low, p.plausible_high,
        f.given AS unit_given, f.factor,
        s.code IS NOT NULL AS known_scale,
        k.patient_id IS NOT NULL AS stored,
        kp.patient_id IS NOT NULL AS known_patient,
        kp.follow_up_days
    FROM resolved AS r
    LEFT JOIN parameter_rules AS p ON p.code = r.resolved_code
    LEFT JOIN unit_factors AS f ON f.unit = r.unit AND f.code = r.resolved_code
    LEFT JOIN (SELECT DISTINCT code, scale_max FROM parameter_scales) AS s
        ON s.code = r.resolved_code AND s.scale_max = r.scale_max
    LEFT JOIN (SELECT DISTINCT patient_id, day, code, specimen FROM stored_keys) AS k
        ON k.patient_id = r.patient_id AND k.day IS NOT DISTINCT FROM r.day
        AND k.code = r.resolved_code AND k.specimen = r.specimen
    LEFT JOIN known_patients AS kp ON kp.patient_id = r.patient_id
),

converted AS NOT MATERIALIZED (
    -- 121 g/L x 0.1 is 12.1 g/dL, not 12.100000000000001: signif12 rounds away the float residue
    -- (carta/measures/numbers.signif, the rule the pandas checks use).
    SELECT
        *,
        coalesce(factor <> 1.0, false) AS is_converted,
        CASE WHEN factor <> 1.0 THEN signif12(value_written * factor) ELSE value_written END
            AS value,
        CASE WHEN factor <> 1.0 THEN signif12(ref_low_written * factor) ELSE ref_low_written END
            AS ref_low,
        CASE WHEN factor <> 1.0 THEN signif12(ref_high_written * factor) ELSE ref_high_written
        END AS ref_high
    FROM named
),

-- Duplicates are judged among all the rows read, refused or not, as validate.py does: a key
-- (patient, day, parameter, specimen) keeps its first line, and a key whose rows do not all have
-- the same value and qualifier (NULL the same as NULL) is a conflict. Most files have few keys of
-- more than one row: they are found by the keys' hashes first (one number to group a million
-- rows by, not four columns; two keys of one hash only make it a candidate), then judged
-- exactly, and only they are joined back. (A window would carry every column of every row.)
candidate_hashes AS (
    SELECT hash(patient_id, day, code, specimen) AS key_hash
    FROM converted
    GROUP BY key_hash
    HAVING count(*) > 1
),

repeated_keys AS (
    SELECT
        patient_id, day, code, specimen,
        min(line) AS first_line,
        NOT (
            (count(value) = 0 OR (count(value) = count(*) AND min(value) = max(value)))
            AND (count(qualifier) = 0
                 OR (count(qualifier) = count(*) AND min(qualifier) = max(qualifier)))
        ) AS conflicting
    FROM converted
    WHERE hash(patient_id, day, code, specimen) IN (SELECT key_hash FROM candidate_hashes)
    GROUP BY ALL
    HAVING count(*) > 1
),

counted AS (
    SELECT
        c.*,
        coalesce(k.conflicting, false) AS conflicting,
        coalesce(c.line > k.first_line, false) AS repeated
    FROM converted AS c
    LEFT JOIN repeated_keys AS k
        ON k.patient_id = c.patient_id AND k.day IS NOT DISTINCT FROM c.day AND k.code = c.code
        AND k.specimen = c.specimen
),

checked AS (
    SELECT
        line,
        CASE
            WHEN NOT isfinite(value_written) THEN 'finite value'
            WHEN NOT isfinite(ref_low_written) THEN 'finite ref_low'
            WHEN NOT isfinite(ref_high_written) THEN 'finite ref_high'
            WHEN NOT isfinite(scale_max) THEN 'finite scale_max'
            WHEN day NOT BETWEEN $day_low AND $day_high THEN 'bounds day'
            WHEN NOT list_contains($specimens, specimen) THEN 'allowed specimen'
            WHEN qualifier IS NOT NULL AND NOT list_contains($qualifiers, qualifier)
                THEN 'allowed qualifier'
            WHEN interpretation IS NOT NULL AND NOT list_contains($interpretations, interpretation)
                THEN 'allowed interpretation'
            WHEN NOT $any_source AND source_id NOT IN (SELECT source_id FROM writable_sources)
                THEN 'writable'
            WHEN source_id NOT IN (SELECT source_id FROM known_sources) THEN 'source'
            WHEN NOT known_patient THEN 'patient'
            WHEN day IS NULL AND timing IS NULL AND day_precision IS NULL THEN 'undated'
            WHEN NOT known THEN 'code'
            WHEN value_written < 0 THEN 'negative'
            WHEN factor IS NULL THEN 'unit'
            WHEN scale_max IS NOT NULL AND NOT known_scale THEN 'scale'
            -- A value is checked against the scale it names (MMT8 0-150), else the dictionary's.
            WHEN value < scale_min OR value > coalesce(scale_max, dictionary_scale_max)
                THEN 'outside scale'
            WHEN value < plausible_low OR value > plausible_high THEN 'implausible'
            WHEN value IS NULL AND coalesce(qualifier, '') <> 'not_detected' AND interpretation IS NULL
                THEN 'value needed'
            WHEN conflicting THEN 'conflict'
            WHEN repeated THEN 'repeated'
            WHEN stored THEN 'stored'
        END AS rule,
        patient_id,
        day,
        code,
        value,
        CASE WHEN known THEN dictionary_unit ELSE unit_written END AS unit,
        ref_low,
        ref_high,
        specimen,
        qualifier,
        source_id,
        -- "converted from g/L; named Haemoglobin in the file; <the file's note>"
        nullif(
            concat_ws(
                '; ',
                CASE WHEN is_converted THEN 'converted from ' || unit_written END,
                CASE
                    WHEN known AND code <> code_written
                        THEN 'named ' || code_written || ' in the file'
                END,
                note
            ),
            ''
        ) AS note,
        timing,
        day_earliest,
        day_latest,
        day_precision,
        scale_max,
        interpretation,
        code_written,
        unit_written,
        unit_given,
        value_written,
        coalesce(day < -$far_days OR day > coalesce(follow_up_days, 365) + $far_days, false) AS far
    FROM counted
)

-- What the reasons quote is kept for the refused rows only: the accepted ones are most rows.
SELECT
    * EXCLUDE (code_written, unit_written, unit_given, value_written),
    CASE WHEN rule IS NOT NULL THEN code_written END AS code_written,
    CASE WHEN rule IS NOT NULL THEN unit_written END AS unit_written,
    CASE WHEN rule IS NOT NULL THEN unit_given END AS unit_given,
    CASE WHEN rule IS NOT NULL THEN value_written END AS value_written
FROM checked
ORDER BY line
