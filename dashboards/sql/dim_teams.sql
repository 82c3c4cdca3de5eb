-- Teams for the sidebar filter.
select team_id, team_name from dim_teams where team_id <> 'unassigned' order by team_id
