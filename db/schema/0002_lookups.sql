-- Lookup tables and their seeded defaults.

------------------------------------------------------------------------
-- Lookup tables: one table for the five lists, kind tells them apart.
------------------------------------------------------------------------
CREATE TABLE lookup_items (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind                text NOT NULL CONSTRAINT lookup_items__kind__check CHECK (kind IN
                        ('opportunity-status', 'opportunity-forecast', 'opportunity-loss-reason', 'product', 'source')),
  label               text NOT NULL CONSTRAINT lookup_items__label__check CHECK (char_length(label) BETWEEN 1 AND 100),
  position            integer NOT NULL DEFAULT 0,
  active              boolean NOT NULL DEFAULT true,
  is_default          boolean NOT NULL DEFAULT false,
  probability         smallint CONSTRAINT lookup_items__probability__check CHECK (probability BETWEEN 0 AND 100),
  include_in_forecast boolean,
  unit_price          numeric(12, 2) CONSTRAINT lookup_items__unit_price__check CHECK (unit_price BETWEEN 0 AND 1000000000),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  version             integer NOT NULL DEFAULT 1,
  CONSTRAINT lookup_items__kind_id__unique UNIQUE (kind, id),
  CONSTRAINT lookup_items__probability__kind CHECK (kind = 'opportunity-status' OR probability IS NULL),
  CONSTRAINT lookup_items__include_in_forecast__kind
    CHECK ((kind = 'opportunity-forecast') = (include_in_forecast IS NOT NULL)),
  CONSTRAINT lookup_items__unit_price__kind CHECK (kind = 'product' OR unit_price IS NULL),
  CONSTRAINT lookup_items__is_default__active CHECK (active OR NOT is_default)
);
CREATE UNIQUE INDEX lookup_items__label__unique ON lookup_items (kind, lower(label));
CREATE UNIQUE INDEX lookup_items__is_default__unique ON lookup_items (kind) WHERE is_default;
CREATE INDEX lookup_items_order ON lookup_items (kind, position, id);

------------------------------------------------------------------------
-- Seeded defaults of the lookup tables
------------------------------------------------------------------------
INSERT INTO lookup_items (kind, label, position, is_default, probability) VALUES
  ('opportunity-status', 'New', 1, true, 10),
  ('opportunity-status', 'Qualified', 2, false, 25),
  ('opportunity-status', 'Proposal', 3, false, 50),
  ('opportunity-status', 'Negotiation', 4, false, 75),
  ('opportunity-status', 'Won', 5, false, 100),
  ('opportunity-status', 'Lost', 6, false, 0);
INSERT INTO lookup_items (kind, label, position, is_default, include_in_forecast) VALUES
  ('opportunity-forecast', 'Pipeline', 1, true, true),
  ('opportunity-forecast', 'Best case', 2, false, true),
  ('opportunity-forecast', 'Commit', 3, false, true),
  ('opportunity-forecast', 'Omitted', 4, false, false);
INSERT INTO lookup_items (kind, label, position) VALUES
  ('opportunity-loss-reason', 'Price', 1),
  ('opportunity-loss-reason', 'Competitor', 2),
  ('opportunity-loss-reason', 'No budget', 3),
  ('opportunity-loss-reason', 'No decision', 4),
  ('source', 'Website', 1),
  ('source', 'Referral', 2),
  ('source', 'Trade show', 3),
  ('source', 'Cold call', 4);
