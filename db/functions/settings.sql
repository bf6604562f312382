-- Settings: one row of company-wide defaults.

CREATE OR REPLACE FUNCTION settings_json(s settings) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('default_close_days', s.default_close_days,
    'history_grace_seconds', s.history_grace_seconds, 'currency', s.currency,
    'sales_grid_period', s.sales_grid_period, 'fiscal_year_start_month', s.fiscal_year_start_month,
    'updated_at', api_ts(s.updated_at), 'version', s.version)
$$;

CREATE OR REPLACE FUNCTION api_settings_patch(p jsonb, p_if_match integer) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old settings; new settings;
BEGIN
  SELECT * INTO old FROM settings FOR UPDATE;
  PERFORM api_check_version(old.version, p_if_match);
  new := old;
  IF p ? 'default_close_days' THEN new.default_close_days := (p->>'default_close_days')::integer; END IF;
  IF p ? 'history_grace_seconds' THEN new.history_grace_seconds := (p->>'history_grace_seconds')::integer; END IF;
  IF p ? 'currency' THEN new.currency := p->>'currency'; END IF;
  IF p ? 'sales_grid_period' THEN new.sales_grid_period := p->>'sales_grid_period'; END IF;
  IF p ? 'fiscal_year_start_month' THEN new.fiscal_year_start_month := (p->>'fiscal_year_start_month')::integer; END IF;
  IF new IS DISTINCT FROM old THEN
    UPDATE settings SET default_close_days = new.default_close_days,
           history_grace_seconds = new.history_grace_seconds, currency = new.currency,
           sales_grid_period = new.sales_grid_period, fiscal_year_start_month = new.fiscal_year_start_month,
           updated_at = now(), version = settings.version + 1
     RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT settings_json(new), new.version, 1::bigint;
END $$;
