-- CSAT answers are 1-5 and NPS answers 0-10; anything else is a producer bug to fix at the source.
select survey_id, survey_kind, score
from {{ ref('fct_csat_responses') }}
where (survey_kind = 'csat' and score not between 1 and 5)
    or (survey_kind = 'nps' and score not between 0 and 10)
