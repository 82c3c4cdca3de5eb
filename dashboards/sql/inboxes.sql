-- Business numbers seen in the cycles.
select distinct inbox_id from fct_cycles where inbox_id is not null order by inbox_id
