-- Forecast reports (SPEC 4.1): saved report definitions (their CRUD), and
-- the functions that run a definition (saved or given as query parameters)
-- and build the whole result as one JSON document from the monthly totals
-- (totals.sql).
--
-- A definition: owner_ids (empty = every owner), a close-date window given
-- either as from/to (inclusive dates) or as a relative period, status_ids
-- (empty = every status), forecast_ids (empty = every forecast category
-- with include_in_forecast; given = exactly those), outcomes (default
-- open and won), group_by (month | quarter) and split_by (owner | status |
-- forecast | none).
--
-- Relative periods resolve against today (UTC: the service's sessions run
-- with TimeZone=UTC) and settings.fiscal_year_start_month (F):
--   this_month      the calendar month holding today;
--   this_quarter    the fiscal quarter holding today (quarters start in
--                   months F, F+3, F+6, F+9; with F = 4, Q1 = Apr-Jun);
--   next_quarter    the fiscal quarter after it;
--   this_year       the fiscal year holding today (12 months from month F);
--   last_12_months  the 12 whole calendar months ending with this month
--                   (this month included);
--   next_12_months  the 12 whole calendar months starting with this month
--                   (this month included).
-- Window rules: from <= to; from at most 2 years before today (exactly
-- today minus 2 years is allowed; PostgreSQL date arithmetic, so from
-- 29 February the limit is 28 February); the window is shorter than 5
-- years (to < from + 5 years), so a result has at most 61 months.
--
-- Periods: calendar months keyed '2026-11', or fiscal quarters keyed
-- '2026-Q3' by the year their fiscal year starts in. Every period that
-- overlaps the window is listed, empty ones too; the first and last are
-- clipped to the window, so a period's from/to are the dates it counts.
--
-- Visibility: a private report exists only for its owner (everyone else,
-- admins included, gets 404 on every verb); a shared one is readable and
-- runnable by everyone; only its owner or an admin may change or delete it
-- (403 for others who can see it).

CREATE OR REPLACE FUNCTION forecast_report_json(r forecast_reports) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', r.id, 'name', r.name, 'owner_id', r.owner_id, 'shared', r.shared,
    'owner_ids', to_json(r.owner_ids), 'from', r.from_date, 'to', r.to_date, 'period', r.period,
    'status_ids', to_json(r.status_ids), 'forecast_ids', to_json(r.forecast_ids),
    'outcomes', to_json(r.outcomes), 'group_by', r.group_by, 'split_by', r.split_by,
    'results_url', '/forecast-reports/' || r.id || '/results',
    'created_at', api_ts(r.created_at), 'updated_at', api_ts(r.updated_at), 'version', r.version)
$$;

------------------------------------------------------------------------
-- Periods and windows
------------------------------------------------------------------------

-- How many months into its fiscal year (0-11) the month of p_date is.
CREATE OR REPLACE FUNCTION forecast_report_fiscal_month(p_date date, p_start_month integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (extract(month FROM p_date)::integer - p_start_month + 12) % 12
$$;

-- The first day of the period (month, or fiscal quarter) holding p_date.
CREATE OR REPLACE FUNCTION forecast_report_period_start(p_date date, p_group_by text, p_start_month integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (date_trunc('month', p_date::timestamp)
          - make_interval(months => CASE p_group_by WHEN 'quarter'
                                     THEN forecast_report_fiscal_month(p_date, p_start_month) % 3 ELSE 0 END))::date
$$;

-- The key of the period starting on p_start: '2026-11' or '2026-Q3'.
CREATE OR REPLACE FUNCTION forecast_report_period_key(p_start date, p_group_by text, p_start_month integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE p_group_by
    WHEN 'month' THEN to_char(p_start, 'YYYY-MM')
    ELSE to_char(extract(year FROM p_start)::integer
                   - CASE WHEN extract(month FROM p_start)::integer < p_start_month THEN 1 ELSE 0 END, 'FM0000')
         || '-Q' || (forecast_report_fiscal_month(p_start, p_start_month) / 3 + 1)
  END
$$;

-- Every period overlapping [p_from, p_to] in order (idx from 0), clipped
-- to the window.
CREATE OR REPLACE FUNCTION forecast_report_periods(p_from date, p_to date, p_group_by text, p_start_month integer)
RETURNS TABLE (idx integer, key text, from_date date, to_date date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 24 AS $$
  SELECT (row_number() OVER (ORDER BY s) - 1)::integer,
         forecast_report_period_key(greatest(s::date, p_from), p_group_by, p_start_month),
         greatest(s::date, p_from),
         least((s + step)::date - 1, p_to)
    FROM (SELECT CASE p_group_by WHEN 'quarter' THEN interval '3 months' ELSE interval '1 month' END AS step) c,
         generate_series(forecast_report_period_start(p_from, p_group_by, p_start_month)::timestamp,
                         p_to::timestamp, c.step) s
   ORDER BY s
$$;

-- The window of a relative period on p_today (see the rules at the top).
CREATE OR REPLACE FUNCTION forecast_report_period_window(p_period text, p_today date, p_start_month integer,
                                              OUT from_date date, OUT to_date date)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v_month date := date_trunc('month', p_today::timestamp)::date;
  v_quarter date := forecast_report_period_start(p_today, 'quarter', p_start_month);
  v_year date := (v_month - make_interval(months => forecast_report_fiscal_month(p_today, p_start_month)))::date;
BEGIN
  CASE p_period
    WHEN 'this_month' THEN
      from_date := v_month;
      to_date := (v_month + interval '1 month')::date - 1;
    WHEN 'this_quarter' THEN
      from_date := v_quarter;
      to_date := (v_quarter + interval '3 months')::date - 1;
    WHEN 'next_quarter' THEN
      from_date := (v_quarter + interval '3 months')::date;
      to_date := (v_quarter + interval '6 months')::date - 1;
    WHEN 'this_year' THEN
      from_date := v_year;
      to_date := (v_year + interval '12 months')::date - 1;
    WHEN 'last_12_months' THEN
      from_date := (v_month - interval '11 months')::date;
      to_date := (v_month + interval '1 month')::date - 1;
    WHEN 'next_12_months' THEN
      from_date := v_month;
      to_date := (v_month + interval '12 months')::date - 1;
    ELSE
      NULL; -- no period: the window is from/to
  END CASE;
END $$;

-- The window of a definition: its from/to, or its period resolved today.
CREATE OR REPLACE FUNCTION forecast_report_window(r forecast_reports, OUT from_date date, OUT to_date date)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(r.from_date, w.from_date), coalesce(r.to_date, w.to_date)
    FROM (SELECT * FROM forecast_report_period_window(r.period, current_date,
                                                      (SELECT fiscal_year_start_month FROM settings))) w
$$;

-- Field errors of an explicit from/to window (empty array when fine).
CREATE OR REPLACE FUNCTION forecast_report_window_errors(p_from date, p_to date) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  errors jsonb := '[]';
  v_earliest date := (current_date - interval '2 years')::date;
  v_latest date := (p_from + interval '5 years')::date - 1;
BEGIN
  IF p_from < v_earliest THEN
    errors := errors || api_field_error('from', format(
      'must be on or after %s: a forecast window may start at most 2 years before today (%s)',
      v_earliest, current_date));
  END IF;
  IF p_to < p_from THEN
    errors := errors || api_field_error('to', 'must be on or after from');
  ELSIF p_to > v_latest THEN
    errors := errors || api_field_error('to', format(
      'must be on or before %s: a forecast window spans at most 5 years', v_latest));
  END IF;
  RETURN errors;
END $$;

-- Errors of ids in a list that name nothing: field "<name>[i]" (from 0).
-- p_lock keeps the lookup items named by a report being saved from being
-- deleted before it commits (the delete counts references under its lock).
CREATE OR REPLACE FUNCTION forecast_report_id_errors(p_ids bigint[], p_field text, p_kind text, p_lock boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE errors jsonb := '[]'; i integer;
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
    IF p_kind = 'user' THEN
      PERFORM 1 FROM users WHERE id = p_ids[i];
    ELSIF p_lock THEN
      PERFORM 1 FROM lookup_items WHERE id = p_ids[i] AND kind = p_kind FOR KEY SHARE;
    ELSE
      PERFORM 1 FROM lookup_items WHERE id = p_ids[i] AND kind = p_kind;
    END IF;
    IF NOT FOUND THEN
      errors := errors || api_field_error(format('%s[%s]', p_field, i - 1),
                                          format('no %s has id %s', replace(p_kind, '-', ' '), p_ids[i]));
    END IF;
  END LOOP;
  RETURN errors;
END $$;

-- A new definition with every default: no window yet, every owner and
-- status, the included forecast categories, open and won deals, by month,
-- not split.
CREATE OR REPLACE FUNCTION forecast_report_defaults() RETURNS forecast_reports
LANGUAGE plpgsql STABLE AS $$
DECLARE r forecast_reports;
BEGIN
  r.shared := false; r.owner_ids := '{}'; r.status_ids := '{}'; r.forecast_ids := '{}';
  r.outcomes := '{open,won}'; r.group_by := 'month'; r.split_by := 'none';
  RETURN r;
END $$;

CREATE OR REPLACE FUNCTION forecast_report_json_ids(p jsonb) RETURNS bigint[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(e::bigint ORDER BY n), '{}') FROM jsonb_array_elements_text(p) WITH ORDINALITY t(e, n)
$$;

-- Applies a (validated) merge patch, or a definition given as query
-- parameters, and checks the result: the form of the window, the window
-- itself when p_check_window (a saved report's window is checked when it
-- changes, so an old report can still be renamed), and every id.
CREATE OR REPLACE FUNCTION forecast_report_apply(r forecast_reports, p jsonb, p_check_window boolean, p_lock boolean)
RETURNS forecast_reports
LANGUAGE plpgsql AS $$
DECLARE errors jsonb := '[]';
BEGIN
  IF p ? 'name' THEN r.name := p->>'name'; END IF;
  IF p ? 'shared' THEN r.shared := (p->>'shared')::boolean; END IF;
  IF p ? 'owner_ids' THEN r.owner_ids := forecast_report_json_ids(p->'owner_ids'); END IF;
  IF p ? 'from' THEN r.from_date := (p->>'from')::date; END IF;
  IF p ? 'to' THEN r.to_date := (p->>'to')::date; END IF;
  IF p ? 'period' THEN r.period := p->>'period'; END IF;
  IF p ? 'status_ids' THEN r.status_ids := forecast_report_json_ids(p->'status_ids'); END IF;
  IF p ? 'forecast_ids' THEN r.forecast_ids := forecast_report_json_ids(p->'forecast_ids'); END IF;
  IF p ? 'outcomes' THEN
    r.outcomes := ARRAY(SELECT e FROM jsonb_array_elements_text(p->'outcomes') WITH ORDINALITY t(e, n) ORDER BY n);
  END IF;
  IF p ? 'group_by' THEN r.group_by := p->>'group_by'; END IF;
  IF p ? 'split_by' THEN r.split_by := p->>'split_by'; END IF;

  IF r.period IS NOT NULL AND (r.from_date IS NOT NULL OR r.to_date IS NOT NULL) THEN
    errors := errors || api_field_error('period',
      'cannot be combined with from/to: give either a period or a from/to window (set the other to null)');
  ELSIF r.period IS NULL AND r.from_date IS NULL AND r.to_date IS NULL THEN
    errors := errors || api_field_error('period',
      'is required unless from and to are given: give either a period or a from/to window');
  ELSIF r.period IS NULL AND r.from_date IS NULL THEN
    errors := errors || api_field_error('from', 'is required with to (or give a period instead)');
  ELSIF r.period IS NULL AND r.to_date IS NULL THEN
    errors := errors || api_field_error('to', 'is required with from (or give a period instead)');
  ELSIF r.period IS NULL AND p_check_window THEN
    errors := errors || forecast_report_window_errors(r.from_date, r.to_date);
  END IF;
  errors := errors || forecast_report_id_errors(r.owner_ids, 'owner_ids', 'user', p_lock)
                   || forecast_report_id_errors(r.status_ids, 'status_ids', 'opportunity-status', p_lock)
                   || forecast_report_id_errors(r.forecast_ids, 'forecast_ids', 'opportunity-forecast', p_lock);
  PERFORM api_fail_if_invalid(errors);
  RETURN r;
END $$;

------------------------------------------------------------------------
-- CRUD
------------------------------------------------------------------------

-- The report as the caller may see it: 404 when it does not exist or is
-- someone else's private report (its existence must not leak).
CREATE OR REPLACE FUNCTION forecast_report_visible(p_id bigint, p_lock boolean) RETURNS forecast_reports
LANGUAGE plpgsql AS $$
DECLARE r forecast_reports;
BEGIN
  IF p_lock THEN
    SELECT * INTO r FROM forecast_reports WHERE id = p_id FOR UPDATE;
  ELSE
    SELECT * INTO r FROM forecast_reports WHERE id = p_id;
  END IF;
  IF NOT FOUND OR (NOT r.shared AND r.owner_id IS DISTINCT FROM api_caller()) THEN
    PERFORM api_fail('C4404', 'No forecast report has this id.');
  END IF;
  RETURN r;
END $$;

-- A report the caller may change: visible, theirs (or they are an admin),
-- at the version If-Match names.
CREATE OR REPLACE FUNCTION forecast_report_lock_writable(p_id bigint, p_if_match integer) RETURNS forecast_reports
LANGUAGE plpgsql AS $$
DECLARE r forecast_reports;
BEGIN
  r := forecast_report_visible(p_id, true);
  IF r.owner_id IS DISTINCT FROM api_caller() AND NOT api_caller_is_admin() THEN
    PERFORM api_fail('C4403', 'Only the owner of a shared report or an admin may change or delete it.');
  END IF;
  PERFORM api_check_version(r.version, p_if_match);
  RETURN r;
END $$;

CREATE OR REPLACE FUNCTION api_forecast_report_create(p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE r forecast_reports;
BEGIN
  r := forecast_report_apply(forecast_report_defaults(), p, true, true);
  INSERT INTO forecast_reports (name, owner_id, shared, owner_ids, from_date, to_date, period, status_ids,
                                forecast_ids, outcomes, group_by, split_by)
  VALUES (r.name, api_caller(), r.shared, r.owner_ids, r.from_date, r.to_date, r.period, r.status_ids,
          r.forecast_ids, r.outcomes, r.group_by, r.split_by)
  RETURNING * INTO r;
  RETURN QUERY SELECT forecast_report_json(r), r.version, r.id;
END $$;

CREATE OR REPLACE FUNCTION api_forecast_report_patch(p_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old forecast_reports; new forecast_reports;
BEGIN
  old := forecast_report_lock_writable(p_id, p_if_match);
  new := forecast_report_apply(old, p, p ?| ARRAY['from', 'to', 'period'], true);
  IF new IS DISTINCT FROM old THEN
    UPDATE forecast_reports SET name = new.name, shared = new.shared, owner_ids = new.owner_ids,
           from_date = new.from_date, to_date = new.to_date, period = new.period, status_ids = new.status_ids,
           forecast_ids = new.forecast_ids, outcomes = new.outcomes, group_by = new.group_by,
           split_by = new.split_by, updated_at = now(), version = forecast_reports.version + 1
     WHERE forecast_reports.id = p_id RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT forecast_report_json(new), new.version, new.id;
END $$;

CREATE OR REPLACE FUNCTION api_forecast_report_delete(p_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old forecast_reports;
BEGIN
  old := forecast_report_lock_writable(p_id, p_if_match);
  DELETE FROM forecast_reports WHERE forecast_reports.id = p_id;
  RETURN QUERY SELECT forecast_report_json(old), old.version, old.id;
END $$;

------------------------------------------------------------------------
-- Results
------------------------------------------------------------------------

-- One cell: money as text with two decimals. STABLE like
-- json_build_object, so the planner inlines it (an IMMUTABLE function over
-- a STABLE one is called instead).
CREATE OR REPLACE FUNCTION forecast_report_cell(p_count numeric, p_value numeric, p_weighted numeric) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT json_build_object('count', coalesce(p_count, 0)::bigint, 'value', round(coalesce(p_value, 0), 2)::text,
                           'weighted_value', round(coalesce(p_weighted, 0), 2)::text)
$$;

-- The result of a checked definition over the window [p_from, p_to].
-- Opportunities count when live, closing in the window, in a forecast
-- category that is included (or named by forecast_ids), and matching the
-- owner, status and outcome filters. Each falls in exactly one cell, and
-- every sum adds the per-opportunity rounded figures (as the monthly
-- totals keep them), so every total is exactly the sum of the cells it
-- covers. Rows: one per split key with deals, plus every key the filter of
-- the same dimension names (so a script asking for owners 3 and 7 always
-- gets both rows); split_by none gives one row (key null, label "All").
-- Owners are ordered by name, statuses and forecast categories by
-- position.
-- The definition's fields are copied into variables first: a query
-- reading r.owner_ids fetches the field from the record for every row it
-- filters. plpgsql keeps the query's plan for the connection, one plan for
-- every call (any window reads the totals the same way: a range of the
-- primary key, the edge days from the close-date index; planning again
-- for each call's values cost a quarter of its time). JIT is off: the
-- planner's guesses for the CTEs are large enough to trigger JIT
-- compilation, which costs far more than the query.
CREATE OR REPLACE FUNCTION forecast_report_result(r forecast_reports, p_from date, p_to date) RETURNS json
LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_settings settings;
  v_split text := r.split_by;
  v_owner_ids bigint[] := r.owner_ids;
  v_status_ids bigint[] := r.status_ids;
  v_outcomes text[] := r.outcomes;
  v_forecast_ids bigint[];
  v_first_no integer; -- the month number of the first period's start
  v_step integer := CASE r.group_by WHEN 'quarter' THEN 3 ELSE 1 END;
BEGIN
  SELECT * INTO v_settings FROM settings;
  v_first_no := opportunity_month_no(forecast_report_period_start(p_from, r.group_by,
                                                                  v_settings.fiscal_year_start_month));
  v_forecast_ids := CASE WHEN cardinality(r.forecast_ids) > 0 THEN r.forecast_ids
    ELSE ARRAY(SELECT id FROM lookup_items WHERE kind = 'opportunity-forecast' AND include_in_forecast) END;
  RETURN (
  WITH periods AS (
    SELECT p.* FROM forecast_report_periods(p_from, p_to, r.group_by, v_settings.fiscal_year_start_month) p
  ),
  cells AS (
    SELECT CASE v_split WHEN 'owner' THEN t.owner_id WHEN 'status' THEN t.status_id
                        WHEN 'forecast' THEN t.forecast_id ELSE 0 END AS row_key,
           (t.month_no - v_first_no) / v_step AS idx,
           sum(t.deals) AS n, sum(t.value) AS v, sum(t.weighted_value) AS w
      FROM opportunity_totals_between(p_from, p_to) t
     WHERE (cardinality(v_owner_ids) = 0 OR t.owner_id = ANY (v_owner_ids))
       AND (cardinality(v_status_ids) = 0 OR t.status_id = ANY (v_status_ids))
       AND t.forecast_id = ANY (v_forecast_ids)
       AND t.outcome = ANY (v_outcomes)
     GROUP BY 1, 2 HAVING sum(t.deals) <> 0
  ),
  keys AS (
    SELECT row_key FROM cells
    UNION
    SELECT unnest(CASE v_split WHEN 'owner' THEN v_owner_ids WHEN 'status' THEN v_status_ids
                               WHEN 'forecast' THEN r.forecast_ids ELSE '{}'::bigint[] END)
    UNION
    SELECT 0 WHERE v_split = 'none'
  ),
  labelled AS (
    SELECT k.row_key,
           CASE v_split WHEN 'none' THEN 'All' WHEN 'owner' THEN u.name ELSE l.label END AS label,
           CASE v_split WHEN 'owner' THEN u.name ELSE '' END AS sort_name,
           coalesce(l.position, 0) AS sort_position
      FROM keys k
      LEFT JOIN users u ON v_split = 'owner' AND u.id = k.row_key
      LEFT JOIN lookup_items l ON v_split IN ('status', 'forecast') AND l.id = k.row_key
  ),
  rows AS (
    SELECT lb.row_key, lb.label, lb.sort_name, lb.sort_position,
           json_agg(forecast_report_cell(c.n, c.v, c.w) ORDER BY per.idx) AS cells,
           forecast_report_cell(sum(c.n), sum(c.v), sum(c.w)) AS total
      FROM labelled lb
      CROSS JOIN periods per
      LEFT JOIN cells c ON c.row_key = lb.row_key AND c.idx = per.idx
     GROUP BY lb.row_key, lb.label, lb.sort_name, lb.sort_position
  ),
  totals AS (
    SELECT per.idx, sum(c.n) AS n, sum(c.v) AS v, sum(c.w) AS w
      FROM periods per LEFT JOIN cells c ON c.idx = per.idx GROUP BY per.idx
  )
  SELECT json_build_object(
    'report', json_build_object('id', r.id, 'name', r.name, 'period', r.period, 'from', p_from, 'to', p_to,
                                'group_by', r.group_by, 'split_by', v_split, 'owner_ids', to_json(v_owner_ids),
                                'status_ids', to_json(v_status_ids), 'forecast_ids', to_json(r.forecast_ids),
                                'outcomes', to_json(v_outcomes),
                                'fiscal_year_start_month', v_settings.fiscal_year_start_month,
                                'currency', v_settings.currency),
    'periods', (SELECT json_agg(json_build_object('key', key, 'from', from_date, 'to', to_date) ORDER BY idx)
                  FROM periods),
    'rows', coalesce((SELECT json_agg(json_build_object(
                                 'key', CASE WHEN v_split = 'none' THEN NULL ELSE row_key END,
                                 'label', label, 'cells', cells, 'total', total)
                               ORDER BY sort_name, sort_position, row_key) FROM rows), '[]'::json),
    'totals', (SELECT json_agg(forecast_report_cell(n, v, w) ORDER BY idx) FROM totals),
    'grand_total', (SELECT forecast_report_cell(sum(n), sum(v), sum(w)) FROM cells)));
END $$;

-- Running a forecast report in two calls (api/deferred_body.h): the check,
-- made while the request holds its HTTP thread, answers every 4xx (no such
-- or no visible report, an invalid definition, a window out of bounds) and
-- resolves the definition and its window; the computation, made on a
-- report thread after the 200 went out, cannot fail on the request.

-- The checked run: {"definition": <the forecast_reports row>, "from", "to",
-- "name"} as text. Checks saved report p_id (404 unless visible), or, with
-- p_id NULL, the definition p given as query parameters (422 for invalid
-- ones). A saved from/to window is checked again when run: it may have
-- aged past the 2-year limit since it was saved.
CREATE OR REPLACE FUNCTION api_forecast_report_check(p_id bigint, p jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r forecast_reports; w record;
BEGIN
  IF p_id IS NOT NULL THEN
    r := forecast_report_visible(p_id, false);
    IF r.period IS NULL THEN
      PERFORM api_fail_if_invalid(forecast_report_window_errors(r.from_date, r.to_date));
    END IF;
  ELSE
    r := forecast_report_apply(forecast_report_defaults(), p, true, false);
  END IF;
  SELECT * INTO w FROM forecast_report_window(r);
  RETURN json_build_object('definition', row_to_json(r), 'from', w.from_date, 'to', w.to_date, 'name', r.name)::text;
END $$;

-- The result of a checked run (what api_forecast_report_check returned).
CREATE OR REPLACE FUNCTION api_forecast_report_compute(p_checked jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT forecast_report_result(jsonb_populate_record(NULL::forecast_reports, p_checked->'definition'),
                                (p_checked->>'from')::date, (p_checked->>'to')::date)::text
$$;
