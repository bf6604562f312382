-- From here on the functions, views and triggers live in db/functions/ and
-- are applied again, as a whole, after every migration; no schema object
-- may depend on them. Databases migrated before had the totals' month
-- check and month number call opportunity_month() and
-- opportunity_month_no(): they compute the same inline now (as a new
-- database has them from 0009).
ALTER TABLE opportunity_totals
  DROP CONSTRAINT opportunity_totals_close_month_check,
  ADD CONSTRAINT opportunity_totals_close_month_check
    CHECK (close_month = date_trunc('month', close_month::timestamp)::date),
  DROP COLUMN month_no,
  ADD COLUMN month_no integer NOT NULL
    GENERATED ALWAYS AS ((extract(year FROM close_month) * 12 + extract(month FROM close_month) - 1)::integer) STORED;
ALTER TABLE opportunity_total_changes
  DROP COLUMN month_no,
  ADD COLUMN month_no integer NOT NULL
    GENERATED ALWAYS AS ((extract(year FROM close_month) * 12 + extract(month FROM close_month) - 1)::integer) STORED;

-- Functions that are no more: nothing calls the first three (superseded
-- by opportunity_json_of, opportunity_document and the monthly totals);
-- the one-call reports, which the check and compute pairs replaced, are
-- left in databases last migrated before they were dropped.
DROP FUNCTION IF EXISTS opportunity_json(opportunities);
DROP FUNCTION IF EXISTS opportunity_with_lines_json(opportunities);
DROP FUNCTION IF EXISTS forecast_report_period_index(date, date, text);
DROP FUNCTION IF EXISTS api_dashboard_funnel(bigint, date, date);
DROP FUNCTION IF EXISTS api_dashboard_sales_grid(text, date, date, bigint[]);
DROP FUNCTION IF EXISTS api_forecast_report_results(bigint, jsonb);
