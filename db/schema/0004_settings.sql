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
