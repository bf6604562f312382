-- Running a forecast report in two calls (api/deferred_body.h): the check,
-- made while the request holds its HTTP thread, answers every 4xx (no such
-- or no visible report, an invalid definition, a window out of bounds) and
-- resolves the definition and its window; the computation, made on a
-- report thread after the 200 went out, cannot fail on the request.
-- api_forecast_report_results (0008) stays, as the two in one call (below).

-- The checked run: {"definition": <the forecast_reports row>, "from", "to",
-- "name"} as text, or the error api_forecast_report_results would raise.
CREATE FUNCTION api_forecast_report_check(p_id bigint, p jsonb) RETURNS text
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
CREATE FUNCTION api_forecast_report_compute(p_checked jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT forecast_report_result(jsonb_populate_record(NULL::forecast_reports, p_checked->'definition'),
                                (p_checked->>'from')::date, (p_checked->>'to')::date)::text
$$;

-- The two in one call, as before, now made of the two steps so the rules
-- live in one place.
CREATE OR REPLACE FUNCTION api_forecast_report_results(p_id bigint, p jsonb) RETURNS text
LANGUAGE sql AS $$
  SELECT api_forecast_report_compute(api_forecast_report_check(p_id, p)::jsonb)
$$;
