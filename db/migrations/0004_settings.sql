-- Settings: one row of company-wide defaults.

CREATE TABLE settings (
  singleton               boolean PRIMARY KEY DEFAULT true CONSTRAINT settings__singleton__check CHECK (singleton),
  default_close_days      integer NOT NULL DEFAULT 42
                            CONSTRAINT settings__default_close_days__check CHECK (default_close_days BETWEEN 1 AND 3650),
  history_grace_seconds   integer NOT NULL DEFAULT 7200
                            CONSTRAINT settings__history_grace_seconds__check CHECK (history_grace_seconds BETWEEN 0 AND 86400),
  currency                text NOT NULL DEFAULT 'GBP' CONSTRAINT settings__currency__check CHECK (currency ~ '^[A-Z]{3}$'),
  sales_grid_period       text NOT NULL DEFAULT 'month'
                            CONSTRAINT settings__sales_grid_period__check CHECK (sales_grid_period IN ('month', 'quarter')),
  fiscal_year_start_month integer NOT NULL DEFAULT 1
                            CONSTRAINT settings__fiscal_year_start_month__check CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  version                 integer NOT NULL DEFAULT 1
);
INSERT INTO settings DEFAULT VALUES;

CREATE FUNCTION settings_json(s settings) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('default_close_days', s.default_close_days,
    'history_grace_seconds', s.history_grace_seconds, 'currency', s.currency,
    'sales_grid_period', s.sales_grid_period, 'fiscal_year_start_month', s.fiscal_year_start_month,
    'updated_at', api_ts(s.updated_at), 'version', s.version)
$$;

CREATE FUNCTION api_settings_patch(p jsonb, p_if_match integer) RETURNS TABLE (body json, version integer, id bigint)
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
