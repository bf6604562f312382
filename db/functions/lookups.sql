-- The lookup tables (one table, lookup_items, for the five lists).

CREATE OR REPLACE FUNCTION lookup_json(l lookup_items) RETURNS json
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
CREATE OR REPLACE FUNCTION lookup_reference_errors(p_kind text, p_id bigint, p_field text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE v_active boolean;
BEGIN
  IF p_id IS NULL THEN RETURN '[]'; END IF;
  SELECT active INTO v_active FROM lookup_items WHERE id = p_id AND kind = p_kind;
  IF NOT FOUND THEN RETURN api_field_error(p_field, format('no %s item has id %s', p_kind, p_id)); END IF;
  IF NOT v_active THEN RETURN api_field_error(p_field, format('%s item %s is inactive', p_kind, p_id)); END IF;
  RETURN '[]';
END $$;

CREATE OR REPLACE FUNCTION lookup_apply(l lookup_items, p jsonb) RETURNS lookup_items
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
CREATE OR REPLACE FUNCTION lookup_clear_other_defaults(p_kind text, p_id bigint) RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('lookup-default:' || p_kind));
  UPDATE lookup_items SET is_default = false, updated_at = now(), version = version + 1
   WHERE kind = p_kind AND is_default AND id IS DISTINCT FROM p_id
$$;

CREATE OR REPLACE FUNCTION api_lookup_create(p_kind text, p jsonb) RETURNS TABLE (body json, version integer, id bigint)
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

CREATE OR REPLACE FUNCTION api_lookup_patch(p_kind text, p_id bigint, p jsonb, p_if_match integer)
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

CREATE OR REPLACE FUNCTION api_lookup_delete(p_kind text, p_id bigint, p_if_match integer)
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

-- How many records refer to a lookup item: accounts, opportunities, their
-- lines, and saved forecast reports naming it in status_ids or
-- forecast_ids. Deleting an item in use is refused with 409 (deactivate
-- it instead).
CREATE OR REPLACE FUNCTION lookup_reference_count(p_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM accounts WHERE source_id = p_id)
       + (SELECT count(*) FROM opportunities
           WHERE status_id = p_id OR forecast_id = p_id OR source_id = p_id OR loss_reason_id = p_id)
       + (SELECT count(*) FROM opportunity_lines WHERE product_id = p_id)
       + (SELECT count(*) FROM forecast_reports WHERE p_id = ANY (status_ids) OR p_id = ANY (forecast_ids))
$$;
