-- The dashboard (SPEC 4.2): the sales funnel and the sales grid, each built
-- as one JSON document from the monthly totals (totals.sql).
--
-- The funnel: every active status that is a stage of the open pipeline (a
-- status with probability 0 or 100 makes its deals lost or won, so it is
-- not one) in position order, with the count, value and weighted value of
-- its open, live opportunities (optionally one owner's, closing within
-- [from, to]), the URL of the list of exactly those deals, and totals that
-- are the sums of the rows. Open deals in an inactive status, or left in a
-- won or lost one with a probability of their own, are in no row and so in
-- no total.
--
-- The sales grid: the window [from, to] is inclusive and defaults to the
-- current fiscal year; given one bound only, the other is that bound's
-- fiscal year's (to = the end of the fiscal year holding from; from = the
-- start of the fiscal year holding to). The columns are the periods
-- overlapping the window, each shown with the dates it covers (its bounds
-- clipped to the window); a deal counts when its close date is within the
-- window. The window must not end before it starts and must be shorter
-- than 5 years (to < from + 5 years, so at most 61 months): 422 naming
-- `to`. Unknown ids in owner_ids are a 422 naming `owner_ids`. Rows: the
-- users owner_ids names, else every active user plus every user with
-- figures in the window, by name. Won deals count in won_*, open ones in
-- open_*; lost and deleted deals are ignored. Every total is the sum of
-- the rounded per-deal figures it covers, so totals equal the sums of the
-- cells shown.
--
-- The fiscal periods are those of the forecast reports: months keyed
-- '2026-11', fiscal quarters keyed '2026-Q1' by the year their fiscal year
-- starts in (settings.fiscal_year_start_month; with 4, Q1 = Apr-Jun),
-- listed by forecast_report_periods() clipped to the window, and the
-- fiscal year holding a date from forecast_report_period_window('this_year',
-- ...).
--
-- Each runs in two calls, as the forecast reports do: the check, made while
-- the request holds its HTTP thread, answers every 4xx and resolves the
-- defaults; the computation, made on a report thread after the 200 went
-- out, cannot fail on the request. The computations keep one plan per
-- connection and run without JIT: the row guesses for set-returning
-- functions make these millisecond queries look costly enough to compile,
-- which takes longer than running them.

------------------------------------------------------------------------
-- The funnel
------------------------------------------------------------------------

-- {"owner_id", "from", "to"} (each null when not given) as text, or the
-- 422 naming the field.
CREATE OR REPLACE FUNCTION api_dashboard_funnel_check(p_owner_id bigint, p_from date, p_to date) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  errors jsonb := '[]';
BEGIN
  IF p_owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p_owner_id) THEN
    errors := errors || api_field_error('owner_id', format('no user has id %s', p_owner_id));
  END IF;
  IF p_to < p_from THEN
    errors := errors || api_field_error('to', format('must not be before from (%s)', to_char(p_from, 'YYYY-MM-DD')));
  END IF;
  PERFORM api_fail_if_invalid(errors);
  RETURN json_build_object('owner_id', p_owner_id, 'from', p_from, 'to', p_to)::text;
END $$;

-- The funnel of a checked request (what api_dashboard_funnel_check
-- returned).
CREATE OR REPLACE FUNCTION api_dashboard_funnel_compute(p_checked jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_owner_id bigint := (p_checked->>'owner_id')::bigint;
  v_from date := (p_checked->>'from')::date;
  v_to date := (p_checked->>'to')::date;
  v_filters text;
BEGIN
  -- The filters of GET /opportunities that select the same deals.
  v_filters := '&outcome=open' || coalesce('&owner_id=' || v_owner_id, '')
            || coalesce('&close_from=' || to_char(v_from, 'YYYY-MM-DD'), '')
            || coalesce('&close_to=' || to_char(v_to, 'YYYY-MM-DD'), '');
  RETURN (
    WITH open_deals AS (
      SELECT t.status_id, sum(t.deals) AS deals, sum(t.value) AS value, sum(t.weighted_value) AS weighted_value
        FROM opportunity_totals_between(coalesce(v_from, '-infinity'), coalesce(v_to, 'infinity')) t
       WHERE t.outcome = 'open' AND (v_owner_id IS NULL OR t.owner_id = v_owner_id)
       GROUP BY t.status_id
    ),
    stages AS (
      SELECT l.id, l.label, l.position, coalesce(d.deals, 0)::bigint AS deals,
             coalesce(d.value, 0) AS value, coalesce(d.weighted_value, 0) AS weighted_value
        FROM lookup_items l
        LEFT JOIN open_deals d ON d.status_id = l.id
       WHERE l.kind = 'opportunity-status' AND l.active AND (l.probability IS NULL OR l.probability BETWEEN 1 AND 99)
    )
    SELECT json_build_object(
      'data', coalesce(json_agg(json_build_object('status_id', st.id, 'label', st.label, 'position', st.position,
                                 'count', st.deals, 'value', round(st.value, 2)::text,
                                 'weighted_value', round(st.weighted_value, 2)::text,
                                 'opportunities_url', '/opportunities?status_id=' || st.id || v_filters)
                               ORDER BY st.position, st.id), '[]'::json),
      'totals', json_build_object('count', coalesce(sum(st.deals), 0)::bigint,
                                  'value', round(coalesce(sum(st.value), 0), 2)::text,
                                  'weighted_value', round(coalesce(sum(st.weighted_value), 0), 2)::text))::text
      FROM stages st);
END $$;

------------------------------------------------------------------------
-- The sales grid
------------------------------------------------------------------------

-- {"period", "from", "to", "owner_ids"} with the defaults filled (the
-- settings' period, the fiscal year holding from, else to, else today;
-- owner_ids null for everyone) as text, or the 422 naming the field.
CREATE OR REPLACE FUNCTION api_dashboard_sales_grid_check(p_period text, p_from date, p_to date, p_owner_ids bigint[])
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  s settings;
  errors jsonb := '[]';
  v_period text;
  v_year record;
  v_from date;
  v_to date;
  v_unknown text;
BEGIN
  SELECT * INTO s FROM settings;
  v_period := coalesce(p_period, s.sales_grid_period);
  -- Kept within the dates the API can write.
  SELECT * INTO v_year
    FROM forecast_report_period_window('this_year', coalesce(p_from, p_to, current_date), s.fiscal_year_start_month);
  v_from := coalesce(p_from, greatest(v_year.from_date, '0001-01-01'));
  v_to := coalesce(p_to, least(v_year.to_date, '9999-12-31'));
  IF v_to < v_from THEN
    errors := errors || api_field_error('to', format('must not be before from (%s)', to_char(v_from, 'YYYY-MM-DD')));
  ELSIF v_to >= v_from + interval '5 years' THEN
    errors := errors || api_field_error('to', format('must be less than 5 years after from (%s): '
                                                     'the window is at most 5 years long',
                                                     to_char(v_from, 'YYYY-MM-DD')));
  END IF;
  SELECT string_agg(x.id::text, ', ' ORDER BY x.id) INTO v_unknown
    FROM (SELECT DISTINCT i AS id FROM unnest(p_owner_ids) i) x
   WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x.id);
  IF v_unknown IS NOT NULL THEN
    errors := errors || api_field_error('owner_ids', format('no user has id %s', v_unknown));
  END IF;
  PERFORM api_fail_if_invalid(errors);
  RETURN json_build_object('period', v_period, 'from', v_from, 'to', v_to, 'owner_ids', p_owner_ids)::text;
END $$;

-- One cell (or total) of the sales grid; money as text with two decimals.
-- STABLE like json_build_object, so the planner inlines it.
CREATE OR REPLACE FUNCTION sales_grid_cell_json(p_won_count bigint, p_won_value numeric, p_open_count bigint,
                                     p_open_value numeric, p_open_weighted_value numeric) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT json_build_object('won_count', coalesce(p_won_count, 0),
                           'won_value', round(coalesce(p_won_value, 0), 2)::text,
                           'open_count', coalesce(p_open_count, 0),
                           'open_value', round(coalesce(p_open_value, 0), 2)::text,
                           'open_weighted_value', round(coalesce(p_open_weighted_value, 0), 2)::text)
$$;

-- The sales grid of a checked request (what api_dashboard_sales_grid_check
-- returned).
CREATE OR REPLACE FUNCTION api_dashboard_sales_grid_compute(p_checked jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  s settings;
  v_period text := p_checked->>'period';
  v_from date := (p_checked->>'from')::date;
  v_to date := (p_checked->>'to')::date;
  v_owner_ids bigint[];
  v_first_no integer; -- the month number of the first period's start
BEGIN
  SELECT * INTO s FROM settings;
  IF jsonb_typeof(p_checked->'owner_ids') = 'array' THEN
    v_owner_ids := ARRAY(SELECT jsonb_array_elements_text(p_checked->'owner_ids')::bigint);
  END IF;
  v_first_no := opportunity_month_no(forecast_report_period_start(v_from, v_period, s.fiscal_year_start_month));

  RETURN (
    WITH periods AS (
      SELECT f.idx AS n, f.key, f.from_date AS first_day, f.to_date AS last_day
        FROM forecast_report_periods(v_from, v_to, v_period, s.fiscal_year_start_month) f
    ),
    figures AS (
      SELECT t.owner_id,
             (t.month_no - v_first_no) / CASE v_period WHEN 'quarter' THEN 3 ELSE 1 END AS n,
             (sum(t.deals) FILTER (WHERE t.outcome = 'won'))::bigint AS won_count,
             sum(t.value) FILTER (WHERE t.outcome = 'won') AS won_value,
             (sum(t.deals) FILTER (WHERE t.outcome = 'open'))::bigint AS open_count,
             sum(t.value) FILTER (WHERE t.outcome = 'open') AS open_value,
             sum(t.weighted_value) FILTER (WHERE t.outcome = 'open') AS open_weighted_value
        FROM opportunity_totals_between(v_from, v_to) t
       WHERE t.outcome IN ('won', 'open')
         AND (v_owner_ids IS NULL OR t.owner_id = ANY (v_owner_ids))
       GROUP BY 1, 2
      HAVING sum(t.deals) <> 0
    ),
    owners AS (
      SELECT u.id, u.name FROM users u
       WHERE CASE WHEN v_owner_ids IS NULL THEN u.active OR u.id IN (SELECT f.owner_id FROM figures f)
                  ELSE u.id = ANY (v_owner_ids) END
    ),
    cells AS (
      SELECT w.id AS owner_id, p.n, coalesce(f.won_count, 0) AS won_count, coalesce(f.won_value, 0) AS won_value,
             coalesce(f.open_count, 0) AS open_count, coalesce(f.open_value, 0) AS open_value,
             coalesce(f.open_weighted_value, 0) AS open_weighted_value
        FROM owners w CROSS JOIN periods p
        LEFT JOIN figures f ON f.owner_id = w.id AND f.n = p.n
    ),
    owner_rows AS (
      SELECT c.owner_id,
             json_agg(sales_grid_cell_json(c.won_count, c.won_value, c.open_count, c.open_value,
                                           c.open_weighted_value) ORDER BY c.n) AS cells,
             sales_grid_cell_json(sum(c.won_count)::bigint, sum(c.won_value), sum(c.open_count)::bigint,
                                  sum(c.open_value), sum(c.open_weighted_value)) AS total
        FROM cells c GROUP BY c.owner_id
    ),
    period_totals AS (
      SELECT p.n, sales_grid_cell_json(sum(c.won_count)::bigint, sum(c.won_value), sum(c.open_count)::bigint,
                                       sum(c.open_value), sum(c.open_weighted_value)) AS total
        FROM periods p LEFT JOIN cells c ON c.n = p.n GROUP BY p.n
    )
    SELECT json_build_object(
      'periods', (SELECT coalesce(json_agg(json_build_object('key', p.key, 'from', p.first_day, 'to', p.last_day)
                                           ORDER BY p.n), '[]'::json) FROM periods p),
      'rows', (SELECT coalesce(json_agg(json_build_object('owner_id', w.id, 'owner_name', w.name,
                                                          'cells', r.cells, 'total', r.total)
                                        ORDER BY w.name, w.id), '[]'::json)
                 FROM owners w JOIN owner_rows r ON r.owner_id = w.id),
      'totals', (SELECT coalesce(json_agg(t.total ORDER BY t.n), '[]'::json) FROM period_totals t),
      'grand_total', (SELECT sales_grid_cell_json(sum(c.won_count)::bigint, sum(c.won_value),
                                                  sum(c.open_count)::bigint, sum(c.open_value),
                                                  sum(c.open_weighted_value)) FROM cells c))::text);
END $$;
