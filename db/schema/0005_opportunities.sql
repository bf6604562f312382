-- Opportunities and their lines, with exact money.
--
-- Money is numeric with two decimals; derived figures are computed here and
-- nowhere else: a line's total and an opportunity's weighted value are
-- generated columns (round() on numeric rounds half away from zero), and
-- an opportunity's value is kept by a trigger on its lines
-- (db/functions/opportunities.sql).

CREATE TABLE opportunities (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id       bigint NOT NULL CONSTRAINT opportunities__account_id__fk REFERENCES accounts (id),
  name             text NOT NULL CONSTRAINT opportunities__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  owner_id         bigint NOT NULL CONSTRAINT opportunities__owner_id__fk REFERENCES users (id),
  status_kind      text NOT NULL DEFAULT 'opportunity-status' CHECK (status_kind = 'opportunity-status'),
  status_id        bigint NOT NULL,
  close_date       date NOT NULL,
  next_step        text CONSTRAINT opportunities__next_step__check CHECK (char_length(next_step) <= 500),
  forecast_kind    text NOT NULL DEFAULT 'opportunity-forecast' CHECK (forecast_kind = 'opportunity-forecast'),
  forecast_id      bigint NOT NULL,
  probability      smallint NOT NULL CONSTRAINT opportunities__probability__check CHECK (probability BETWEEN 0 AND 100),
  competitor       text CONSTRAINT opportunities__competitor__check CHECK (char_length(competitor) <= 200),
  source_kind      text NOT NULL DEFAULT 'source' CHECK (source_kind = 'source'),
  source_id        bigint,
  loss_reason_kind text NOT NULL DEFAULT 'opportunity-loss-reason' CHECK (loss_reason_kind = 'opportunity-loss-reason'),
  loss_reason_id   bigint,
  description      text CONSTRAINT opportunities__description__check CHECK (char_length(description) <= 10000),
  win_loss_report  text CONSTRAINT opportunities__win_loss_report__check CHECK (char_length(win_loss_report) <= 10000),
  external_id      text CONSTRAINT opportunities__external_id__check CHECK (char_length(external_id) BETWEEN 1 AND 200),
  value            numeric(24, 2) NOT NULL DEFAULT 0 CONSTRAINT opportunities__value__check CHECK (value >= 0),
  weighted_value   numeric(24, 2) GENERATED ALWAYS AS (round(value * probability / 100, 2)) STORED,
  outcome          text GENERATED ALWAYS AS
                     (CASE probability WHEN 0 THEN 'lost' WHEN 100 THEN 'won' ELSE 'open' END) STORED,
  created_at       timestamptz NOT NULL DEFAULT now(),
  created_by       bigint NOT NULL CONSTRAINT opportunities__created_by__fk REFERENCES users (id),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  version          integer NOT NULL DEFAULT 1,
  deleted_at       timestamptz,
  CONSTRAINT opportunities__status_id__fk FOREIGN KEY (status_kind, status_id) REFERENCES lookup_items (kind, id),
  CONSTRAINT opportunities__forecast_id__fk FOREIGN KEY (forecast_kind, forecast_id) REFERENCES lookup_items (kind, id),
  CONSTRAINT opportunities__source_id__fk FOREIGN KEY (source_kind, source_id) REFERENCES lookup_items (kind, id),
  CONSTRAINT opportunities__loss_reason_id__fk
    FOREIGN KEY (loss_reason_kind, loss_reason_id) REFERENCES lookup_items (kind, id)
);
CREATE UNIQUE INDEX opportunities__external_id__unique ON opportunities (external_id)
  WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX opportunities_account ON opportunities (account_id, id);
CREATE INDEX opportunities_owner_close ON opportunities (owner_id, close_date, id);
CREATE INDEX opportunities_close ON opportunities (close_date, id);
CREATE INDEX opportunities_updated ON opportunities (updated_at, id);
CREATE INDEX opportunities_created ON opportunities (created_at, id);
CREATE INDEX opportunities_name ON opportunities (name, id);
CREATE INDEX opportunities_value ON opportunities (value, id);
CREATE INDEX opportunities_status ON opportunities (status_id);
CREATE INDEX opportunities_forecast ON opportunities (forecast_id);
CREATE INDEX opportunities_source ON opportunities (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX opportunities_loss_reason ON opportunities (loss_reason_id) WHERE loss_reason_id IS NOT NULL;
CREATE INDEX opportunities_name_trgm ON opportunities USING gin (name gin_trgm_ops);

CREATE TABLE opportunity_lines (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  opportunity_id bigint NOT NULL CONSTRAINT opportunity_lines__opportunity_id__fk REFERENCES opportunities (id),
  product_kind   text NOT NULL DEFAULT 'product' CHECK (product_kind = 'product'),
  product_id     bigint NOT NULL,
  description    text CONSTRAINT opportunity_lines__description__check CHECK (char_length(description) <= 500),
  -- Echoed as given (2, 1.5, 0.125), so no fixed scale.
  quantity       numeric NOT NULL CONSTRAINT opportunity_lines__quantity__check
                   CHECK (quantity > 0 AND quantity <= 1000000 AND scale(quantity) <= 3),
  unit_price     numeric(12, 2) NOT NULL
                   CONSTRAINT opportunity_lines__unit_price__check CHECK (unit_price BETWEEN 0 AND 1000000000),
  total          numeric(20, 2) GENERATED ALWAYS AS (round(quantity * unit_price, 2)) STORED,
  position       integer NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  version        integer NOT NULL DEFAULT 1,
  CONSTRAINT opportunity_lines__product_id__fk FOREIGN KEY (product_kind, product_id) REFERENCES lookup_items (kind, id)
);
CREATE INDEX opportunity_lines_opportunity ON opportunity_lines (opportunity_id, position, id);
CREATE INDEX opportunity_lines_product ON opportunity_lines (product_id);
