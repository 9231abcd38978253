-- The sources' own follow-up schedules (table visit_schedules), each in day order: what replaces
-- the default schedule for their patients (carta/measures/completeness.py).
SELECT source_id, visit, nominal_day, day_from, day_to, expected, note
FROM visit_schedules
ORDER BY source_id, day_from, visit
