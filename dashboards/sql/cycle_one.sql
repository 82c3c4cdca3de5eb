-- One cycle, every column.
select * from fct_cycles where cycle_id = $cycle_id
