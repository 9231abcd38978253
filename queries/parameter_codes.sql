-- Every parameter code of the dictionary.
SELECT code
FROM parameters
ORDER BY code
