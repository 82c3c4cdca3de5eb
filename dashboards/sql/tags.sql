-- Every tag used on a cycle.
select distinct tag
from (select unnest(string_split(tags, ',')) as tag from fct_cycles where tags <> '')
where tag <> ''
order by tag
