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

CREATE FUNCTION lookup_json(l lookup_items) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT CASE l.kind
    WHEN 'opportunity-status' THEN json_build_object('id', l.id, 'label', l.label, 'position', l.position,
      'active', l.active, 'is_default', l.is_default, 'probability', l.probability,
      'created_at', api_ts(l.created_at), 'updated_at', api_ts(l.updated_at), 'version', l.version)
    WHEN 'opportunity-forecast' THEN json_build_object('id', l.id, 'label', l.label, 'position', l.position,
      'active', l.active, 'is_default', l.is_default, 'include_in_forecast', l.include_in_forecast,
      'created_at', api_ts(l.created_at), 'updated_at', api_ts(l.updated_at), 'version', l.version)
    WHEN 'product' THEN json_build_object('id', l.id, 'label', l.label, 'position', l.position,
      'active', l.active, 'is_default', l.is_default, 'unit_price', l.unit_price::text,
      'created_at', api_ts(l.created_at), 'updated_at', api_ts(l.updated_at), 'version', l.version)
    ELSE json_build_object('id', l.id, 'label', l.label, 'position', l.position,
      'active', l.active, 'is_default', l.is_default,
      'created_at', api_ts(l.created_at), 'updated_at', api_ts(l.updated_at), 'version', l.version)
  END
$$;

-- Checks a reference to a lookup item for a new value: it must exist in the
-- right table and be active. Returns field errors (empty array when fine).
CREATE FUNCTION lookup_reference_errors(p_kind text, p_id bigint, p_field text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE v_active boolean;
BEGIN
  IF p_id IS NULL THEN RETURN '[]'; END IF;
  SELECT active INTO v_active FROM lookup_items WHERE id = p_id AND kind = p_kind;
  IF NOT FOUND THEN RETURN api_field_error(p_field, format('no %s item has id %s', p_kind, p_id)); END IF;
  IF NOT v_active THEN RETURN api_field_error(p_field, format('%s item %s is inactive', p_kind, p_id)); END IF;
  RETURN '[]';
END $$;

CREATE FUNCTION lookup_apply(l lookup_items, p jsonb) RETURNS lookup_items
LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'label' THEN l.label := p->>'label'; END IF;
  IF p ? 'position' THEN l.position := (p->>'position')::integer; END IF;
  IF p ? 'active' THEN l.active := (p->>'active')::boolean; END IF;
  IF p ? 'is_default' THEN l.is_default := (p->>'is_default')::boolean; END IF;
  IF p ? 'probability' THEN l.probability := (p->>'probability')::smallint; END IF;
  IF p ? 'include_in_forecast' THEN l.include_in_forecast := (p->>'include_in_forecast')::boolean; END IF;
  IF p ? 'unit_price' THEN l.unit_price := (p->>'unit_price')::numeric; END IF;
  -- Deactivating the default item clears the default: inactive items
  -- cannot be chosen for new values.
  IF NOT l.active AND l.is_default AND NOT (p ? 'is_default') THEN l.is_default := false; END IF;
  IF NOT l.active AND l.is_default THEN
    PERFORM api_fail('C4422', 'The request has invalid fields.',
                     api_field_error('is_default', 'an inactive item cannot be the default'));
  END IF;
  RETURN l;
END $$;

-- A new default replaces the old one (at most one per table). Default
-- changes of a table are serialised: a concurrent one waits for the lock,
-- then (fresh snapshot per statement) clears the default just committed
-- instead of colliding with it on lookup_items__is_default__unique.
CREATE FUNCTION lookup_clear_other_defaults(p_kind text, p_id bigint) RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('lookup-default:' || p_kind));
  UPDATE lookup_items SET is_default = false, updated_at = now(), version = version + 1
   WHERE kind = p_kind AND is_default AND id IS DISTINCT FROM p_id
$$;

CREATE FUNCTION api_lookup_create(p_kind text, p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE l lookup_items;
BEGIN
  l.kind := p_kind;
  l.active := true; l.is_default := false;
  l.position := (SELECT coalesce(max(position), 0) + 1 FROM lookup_items WHERE kind = p_kind);
  IF p_kind = 'opportunity-forecast' THEN l.include_in_forecast := true; END IF;
  l := lookup_apply(l, p);
  IF l.is_default THEN PERFORM lookup_clear_other_defaults(p_kind, NULL); END IF;
  INSERT INTO lookup_items (kind, label, position, active, is_default, probability, include_in_forecast, unit_price)
  VALUES (l.kind, l.label, l.position, l.active, l.is_default, l.probability, l.include_in_forecast, l.unit_price)
  RETURNING * INTO l;
  RETURN QUERY SELECT lookup_json(l), l.version, l.id;
END $$;

CREATE FUNCTION api_lookup_patch(p_kind text, p_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old lookup_items; new lookup_items;
BEGIN
  SELECT * INTO old FROM lookup_items WHERE lookup_items.id = p_id AND kind = p_kind FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No item of this table has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  new := lookup_apply(old, p);
  IF new IS DISTINCT FROM old THEN
    IF new.is_default AND NOT old.is_default THEN PERFORM lookup_clear_other_defaults(p_kind, p_id); END IF;
    UPDATE lookup_items SET label = new.label, position = new.position, active = new.active,
           is_default = new.is_default, probability = new.probability,
           include_in_forecast = new.include_in_forecast, unit_price = new.unit_price,
           updated_at = now(), version = lookup_items.version + 1
     WHERE lookup_items.id = p_id RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT lookup_json(new), new.version, new.id;
END $$;

CREATE FUNCTION api_lookup_delete(p_kind text, p_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old lookup_items; refs bigint;
BEGIN
  SELECT * INTO old FROM lookup_items WHERE lookup_items.id = p_id AND kind = p_kind FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No item of this table has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  refs := lookup_reference_count(p_id);
  IF refs > 0 THEN
    PERFORM api_fail('C4409', format('%s record(s) refer to this item; deactivate it instead.', refs),
                     NULL, refs::text);
  END IF;
  DELETE FROM lookup_items WHERE lookup_items.id = p_id;
  RETURN QUERY SELECT lookup_json(old), old.version, old.id;
END $$;

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
