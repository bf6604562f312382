-- Forecast reports (SPEC 4.1): saved report definitions. What a definition
-- means and how it runs: db/functions/forecast_reports.sql.

CREATE TABLE forecast_reports (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL CONSTRAINT forecast_reports__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  owner_id     bigint NOT NULL CONSTRAINT forecast_reports__owner_id__fk REFERENCES users (id),
  shared       boolean NOT NULL DEFAULT false,
  owner_ids    bigint[] NOT NULL DEFAULT '{}',
  from_date    date,
  to_date      date,
  period       text CONSTRAINT forecast_reports__period__check CHECK (period IN
                 ('this_month', 'this_quarter', 'this_year', 'next_quarter', 'last_12_months', 'next_12_months')),
  status_ids   bigint[] NOT NULL DEFAULT '{}',
  forecast_ids bigint[] NOT NULL DEFAULT '{}',
  outcomes     text[] NOT NULL DEFAULT '{open,won}'
                 CONSTRAINT forecast_reports__outcomes__check
                 CHECK (cardinality(outcomes) BETWEEN 1 AND 3 AND outcomes <@ '{open,won,lost}'),
  group_by     text NOT NULL DEFAULT 'month'
                 CONSTRAINT forecast_reports__group_by__check CHECK (group_by IN ('month', 'quarter')),
  split_by     text NOT NULL DEFAULT 'none'
                 CONSTRAINT forecast_reports__split_by__check CHECK (split_by IN ('owner', 'status', 'forecast', 'none')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  version      integer NOT NULL DEFAULT 1,
  -- Exactly one form of window: from and to, or period.
  CONSTRAINT forecast_reports__period__form
    CHECK ((from_date IS NULL) = (to_date IS NULL) AND (period IS NULL) = (from_date IS NOT NULL)),
  CONSTRAINT forecast_reports__to__order CHECK (to_date >= from_date)
);
CREATE INDEX forecast_reports_owner ON forecast_reports (owner_id, id);
CREATE INDEX forecast_reports_shared ON forecast_reports (id) WHERE shared;
