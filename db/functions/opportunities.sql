-- Opportunities and their lines, with exact money.
--
-- Money is numeric with two decimals; derived figures are computed in the
-- database and nowhere else: a line's total and an opportunity's weighted
-- value are generated columns (db/schema/0005), and an opportunity's value
-- is kept by the triggers below, in the writing transaction, as value +
-- delta so concurrent line writes never lose a sum.

-- Marks the opportunity as already given a new version in this transaction,
-- so one request moves the version once however many rows it touches.
CREATE OR REPLACE FUNCTION opportunity_mark_versioned(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN PERFORM txn_set_insert('app.versioned', p_id); END $$;

CREATE OR REPLACE FUNCTION opportunity_is_versioned(p_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT txn_set_has('app.versioned', p_id) $$;

-- Keeps opportunities.value equal to the sum of its line totals. Every
-- write to lines, by any code path, goes through these triggers: once per
-- statement, one UPDATE per opportunity touched (a PUT of 1000 lines is one
-- update), as value + delta so concurrent writers never lose a sum.
CREATE OR REPLACE FUNCTION opportunity_add_value(p_id bigint, p_delta numeric) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE opportunities
     SET value = value + p_delta, updated_at = now(),
         version = version + CASE WHEN opportunity_is_versioned(p_id) THEN 0 ELSE 1 END
   WHERE id = p_id;
  PERFORM opportunity_mark_versioned(p_id);
END $$;

CREATE OR REPLACE FUNCTION opportunity_lines_value_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM opportunity_add_value(opportunity_id, sum(total)) FROM new_rows GROUP BY opportunity_id ORDER BY opportunity_id;
  -- A bound on lines keeps every value within numeric(24, 2).
  IF EXISTS (SELECT 1 FROM (SELECT DISTINCT opportunity_id FROM new_rows) t
              WHERE (SELECT count(*) FROM opportunity_lines l WHERE l.opportunity_id = t.opportunity_id) > 1000) THEN
    PERFORM api_fail('C4422', 'An opportunity has at most 1000 lines.',
                     api_field_error('lines', 'an opportunity has at most 1000 lines'));
  END IF;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_lines_value_inserted AFTER INSERT ON opportunity_lines
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_lines_value_inserted();

CREATE OR REPLACE FUNCTION opportunity_lines_value_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM opportunity_add_value(opportunity_id, sum(delta))
     FROM (SELECT opportunity_id, total AS delta FROM new_rows
           UNION ALL SELECT opportunity_id, -total FROM old_rows) changes
    GROUP BY opportunity_id ORDER BY opportunity_id;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_lines_value_updated AFTER UPDATE ON opportunity_lines
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION opportunity_lines_value_updated();

CREATE OR REPLACE FUNCTION opportunity_lines_value_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM opportunity_add_value(opportunity_id, -sum(total)) FROM old_rows GROUP BY opportunity_id ORDER BY opportunity_id;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_lines_value_deleted AFTER DELETE ON opportunity_lines
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_lines_value_deleted();

CREATE OR REPLACE FUNCTION line_json(l opportunity_lines) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', l.id, 'opportunity_id', l.opportunity_id, 'product_id', l.product_id,
    'description', l.description, 'quantity', l.quantity, 'unit_price', l.unit_price::text,
    'total', l.total::text, 'position', l.position, 'created_at', api_ts(l.created_at),
    'updated_at', api_ts(l.updated_at), 'version', l.version)
$$;

-- The JSON of opportunities, as table functions the planner inlines into
-- the statement that reads them.
--
-- A scalar SQL function whose body holds a subquery (such as a lookup of
-- the creator, or an aggregate of the lines) is never inlined: it runs as
-- a function, and its body is planned again on every execution of the
-- statement that calls it. That planning was most of the database's time
-- for GET /opportunities/{id}. Set-returning SQL functions are inlined, so
-- the creator and the lines come from LATERAL parts of one statement whose
-- plan is prepared once per connection. The JSON keeps one definition:
-- opportunity_json_of (no subquery, so it is inlined as well).

-- The opportunity's JSON given its creator's reference {id, name}.
CREATE OR REPLACE FUNCTION opportunity_json_of(o opportunities, p_created_by json) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', o.id, 'account_id', o.account_id, 'name', o.name, 'owner_id', o.owner_id,
    'status_id', o.status_id, 'close_date', o.close_date, 'next_step', o.next_step,
    'forecast_id', o.forecast_id, 'probability', o.probability, 'competitor', o.competitor,
    'source_id', o.source_id, 'loss_reason_id', o.loss_reason_id, 'description', o.description,
    'win_loss_report', o.win_loss_report, 'external_id', o.external_id,
    'value', o.value::text, 'weighted_value', o.weighted_value::text, 'outcome', o.outcome,
    'created_at', api_ts(o.created_at), 'created_by', p_created_by,
    'updated_at', api_ts(o.updated_at), 'version', o.version, 'deleted_at', api_ts(o.deleted_at))
$$;

-- The lines of an opportunity as one JSON array, in position order.
CREATE OR REPLACE FUNCTION opportunity_lines_array(p_id bigint) RETURNS TABLE (lines json)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT coalesce(json_agg(line_json(l) ORDER BY l.position, l.id), '[]'::json)
    FROM opportunity_lines l WHERE l.opportunity_id = p_id
$$;

-- The lines alone, as one JSON value.
CREATE OR REPLACE FUNCTION opportunity_lines_json(p_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT a.lines FROM opportunity_lines_array(p_id) a
$$;

-- Any deal (deleted ones too) with its lines: the body, version and id,
-- and the row version it was built from (see opportunity_get_json).
CREATE OR REPLACE FUNCTION opportunity_document_row(p_id bigint)
RETURNS TABLE (body text, version integer, id bigint, deleted_at timestamptz, row_ctid tid)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT rtrim(opportunity_json_of(o, c.ref)::text, '}') || ', "lines" : ' || a.lines::text || '}', o.version, o.id,
         o.deleted_at, o.ctid
    FROM opportunities o
    CROSS JOIN LATERAL user_ref(o.created_by) c
    CROSS JOIN LATERAL opportunity_lines_array(o.id) a
   WHERE o.id = p_id
$$;

CREATE OR REPLACE FUNCTION opportunity_document_any(p_id bigint)
RETURNS TABLE (body text, version integer, id bigint, deleted_at timestamptz)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT d.body, d.version, d.id, d.deleted_at FROM opportunity_document_row(p_id) d
$$;

-- GET /opportunities/{id}: the live deal (no row when there is none).
CREATE OR REPLACE FUNCTION opportunity_document(p_id bigint) RETURNS TABLE (body text, version integer, id bigint)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT d.body, d.version, d.id FROM opportunity_document_any(p_id) d WHERE d.deleted_at IS NULL
$$;

-- What the writes reply with: the deal with its lines, deleted or not.
-- It is also kept for the transaction (the last one only), with the row
-- version it was built from: the change feed's event at commit takes it
-- when the deal's row is still that version (opportunity_change_event)
-- instead of building it again. Every change to a deal or its lines
-- writes a new row version (the lines keep the deal's value), so an
-- unchanged ctid is an unchanged document.
CREATE OR REPLACE FUNCTION opportunity_get_json(p_id bigint) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql ROWS 1 AS $$
DECLARE d record; v_kept text;
BEGIN
  SELECT * INTO d FROM opportunity_document_row(p_id);
  IF NOT FOUND THEN RETURN; END IF;
  v_kept := set_config('app.opportunity_answer', d.body, true);
  v_kept := set_config('app.opportunity_answer_row', d.id || ' ' || d.row_ctid, true);
  body := d.body::json; version := d.version; id := d.id;
  RETURN NEXT;
END $$;

-- Applies a (validated) line body: the product's price unless the line
-- names one. Returns the line and its field errors (names prefixed with
-- p_field, e.g. "lines[2].") instead of raising, so a whole set of lines is
-- checked before anything fails.
CREATE OR REPLACE FUNCTION line_apply(INOUT l opportunity_lines, p jsonb, p_field text, OUT errors jsonb)
LANGUAGE plpgsql AS $$
DECLARE v_price numeric; v_product_changed boolean := false;
BEGIN
  errors := '[]';
  IF p ? 'product_id' AND (p->>'product_id')::bigint IS DISTINCT FROM l.product_id THEN
    l.product_id := (p->>'product_id')::bigint;
    v_product_changed := true;
    errors := errors || lookup_reference_errors('product', l.product_id, p_field || 'product_id');
  END IF;
  IF p ? 'description' THEN l.description := p->>'description'; END IF;
  IF p ? 'quantity' THEN l.quantity := (p->>'quantity')::numeric; END IF;
  l.quantity := coalesce(l.quantity, 1);
  IF p ? 'unit_price' THEN l.unit_price := (p->>'unit_price')::numeric; END IF;
  IF p ? 'position' THEN l.position := (p->>'position')::integer; END IF;
  IF l.unit_price IS NULL AND jsonb_array_length(errors) = 0 THEN
    SELECT unit_price INTO v_price FROM lookup_items WHERE id = l.product_id;
    l.unit_price := v_price;
    IF l.unit_price IS NULL THEN
      errors := errors || api_field_error(p_field || 'unit_price', 'is required: the product has no unit price');
    END IF;
  END IF;
END $$;

-- Checks and completes lines given as a JSON array, positions following
-- the array order (after p_after) unless given. Returns them with every
-- line's errors, so the caller can report them with its own.
CREATE OR REPLACE FUNCTION lines_prepare(p_lines jsonb, p_field text, p_after integer,
                              OUT lines opportunity_lines[], OUT errors jsonb)
LANGUAGE plpgsql AS $$
DECLARE r record; item jsonb; i integer := 0; l opportunity_lines;
BEGIN
  lines := '{}';
  errors := '[]';
  FOR item IN SELECT value FROM jsonb_array_elements(coalesce(p_lines, '[]'::jsonb)) LOOP
    l := NULL;
    r := line_apply(l, item, format('%s[%s].', p_field, i));
    l := r.l;
    errors := errors || r.errors;
    l.position := coalesce(l.position, p_after + i + 1);
    lines := lines || l;
    i := i + 1;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION lines_store(p_opportunity_id bigint, p_lines opportunity_lines[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO opportunity_lines (opportunity_id, product_id, description, quantity, unit_price, position)
  SELECT p_opportunity_id, u.product_id, u.description, u.quantity, u.unit_price, u.position FROM unnest(p_lines) u
$$;

-- Replaces an opportunity's lines with a validated JSON array.
CREATE OR REPLACE FUNCTION lines_replace(p_opportunity_id bigint, p_lines jsonb, p_field text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  r := lines_prepare(p_lines, p_field, 0);
  PERFORM api_fail_if_invalid(r.errors);
  DELETE FROM opportunity_lines WHERE opportunity_id = p_opportunity_id;
  PERFORM lines_store(p_opportunity_id, r.lines);
END $$;

-- Applies a validated merge patch (or replacement) to an opportunity,
-- filling defaults and checking references; collects all errors.
CREATE OR REPLACE FUNCTION opportunity_check(INOUT o opportunities, p jsonb, p_replace boolean, OUT errors jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  old opportunities := o; s settings; acc accounts;
  v_creating boolean := o.id IS NULL; v_status_probability smallint;
BEGIN
  errors := '[]';
  SELECT * INTO s FROM settings;
  IF p_replace THEN
    o.next_step := NULL; o.competitor := NULL; o.loss_reason_id := NULL;
    o.description := NULL; o.win_loss_report := NULL;
    IF NOT p ? 'source_id' THEN o.source_id := old.source_id; END IF;
  END IF;
  IF p ? 'account_id' THEN o.account_id := (p->>'account_id')::bigint; END IF;
  IF o.account_id IS DISTINCT FROM old.account_id OR v_creating THEN
    SELECT * INTO acc FROM accounts WHERE id = o.account_id AND deleted_at IS NULL;
    IF NOT FOUND THEN
      errors := errors || api_field_error('account_id', format('no account has id %s', o.account_id));
    END IF;
  END IF;
  IF p ? 'name' THEN o.name := p->>'name'; END IF;
  IF p ? 'owner_id' THEN o.owner_id := (p->>'owner_id')::bigint; END IF;
  IF p ? 'status_id' THEN o.status_id := (p->>'status_id')::bigint; END IF;
  IF p ? 'close_date' THEN o.close_date := (p->>'close_date')::date; END IF;
  IF p ? 'next_step' THEN o.next_step := p->>'next_step'; END IF;
  IF p ? 'forecast_id' THEN o.forecast_id := (p->>'forecast_id')::bigint; END IF;
  IF p ? 'probability' THEN o.probability := (p->>'probability')::smallint; END IF;
  IF p ? 'competitor' THEN o.competitor := p->>'competitor'; END IF;
  IF p ? 'source_id' THEN o.source_id := (p->>'source_id')::bigint; END IF;
  IF p ? 'loss_reason_id' THEN o.loss_reason_id := (p->>'loss_reason_id')::bigint; END IF;
  IF p ? 'description' THEN o.description := p->>'description'; END IF;
  IF p ? 'win_loss_report' THEN o.win_loss_report := p->>'win_loss_report'; END IF;
  IF p ? 'external_id' THEN o.external_id := p->>'external_id'; END IF;

  IF v_creating THEN
    o.name := coalesce(o.name, acc.name);
    o.owner_id := coalesce(o.owner_id, api_caller());
    o.status_id := coalesce(o.status_id,
      (SELECT id FROM lookup_items WHERE kind = 'opportunity-status' AND is_default));
    o.forecast_id := coalesce(o.forecast_id,
      (SELECT id FROM lookup_items WHERE kind = 'opportunity-forecast' AND is_default));
    o.close_date := coalesce(o.close_date, current_date + s.default_close_days);
    IF NOT p ? 'source_id' THEN
      o.source_id := (SELECT id FROM lookup_items WHERE id = acc.source_id AND active);
    END IF;
    IF p ? 'created_at' THEN
      IF NOT api_caller_is_admin() THEN
        errors := errors || api_field_error('created_at', 'is read-only: only admins may import created_at');
      ELSIF (p->>'created_at')::timestamptz > now() THEN
        errors := errors || api_field_error('created_at', 'cannot be in the future');
      ELSIF (p->>'created_at')::timestamptz < '1900-01-01T00:00:00Z' THEN
        errors := errors || api_field_error('created_at', 'must not be before 1900-01-01');
      ELSE
        o.created_at := (p->>'created_at')::timestamptz;
      END IF;
    END IF;
    o.created_at := coalesce(o.created_at, now());
    o.created_by := api_caller();
  END IF;

  -- Probability: as given, else the (new) status's, else 10 on create.
  IF NOT p ? 'probability' AND (v_creating OR o.status_id IS DISTINCT FROM old.status_id) THEN
    SELECT probability INTO v_status_probability FROM lookup_items WHERE id = o.status_id AND kind = 'opportunity-status';
    o.probability := coalesce(v_status_probability, o.probability, 10);
  END IF;

  IF o.owner_id IS DISTINCT FROM old.owner_id AND NOT EXISTS (SELECT 1 FROM users WHERE id = o.owner_id AND active) THEN
    errors := errors || api_field_error('owner_id', format('no active user has id %s', o.owner_id));
  END IF;
  IF o.status_id IS NULL THEN
    errors := errors || api_field_error('status_id', 'is required: the status table has no default item');
  ELSIF o.status_id IS DISTINCT FROM old.status_id THEN
    errors := errors || lookup_reference_errors('opportunity-status', o.status_id, 'status_id');
  END IF;
  IF o.forecast_id IS NULL THEN
    errors := errors || api_field_error('forecast_id', 'is required: the forecast table has no default item');
  ELSIF o.forecast_id IS DISTINCT FROM old.forecast_id THEN
    errors := errors || lookup_reference_errors('opportunity-forecast', o.forecast_id, 'forecast_id');
  END IF;
  IF o.source_id IS DISTINCT FROM old.source_id AND p ? 'source_id' THEN
    errors := errors || lookup_reference_errors('source', o.source_id, 'source_id');
  END IF;
  IF o.loss_reason_id IS DISTINCT FROM old.loss_reason_id THEN
    errors := errors || lookup_reference_errors('opportunity-loss-reason', o.loss_reason_id, 'loss_reason_id');
  END IF;
END $$;

-- opportunity_check, failing with 422 on any error.
CREATE OR REPLACE FUNCTION opportunity_apply(o opportunities, p jsonb, p_replace boolean) RETURNS opportunities
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  r := opportunity_check(o, p, p_replace);
  PERFORM api_fail_if_invalid(r.errors);
  RETURN r.o;
END $$;

-- The database's checks of a body alone (see api_account_check).
CREATE OR REPLACE FUNCTION api_opportunity_check(p jsonb, p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE o opportunities; checked record; lines record;
BEGIN
  IF p_id IS NOT NULL THEN
    SELECT * INTO o FROM opportunities WHERE opportunities.id = p_id;
  END IF;
  checked := opportunity_check(o, p - 'lines', false);
  lines := lines_prepare(p->'lines', 'lines', 0);
  PERFORM api_fail_if_invalid(checked.errors || lines.errors);
END $$;

CREATE OR REPLACE FUNCTION api_line_check(p jsonb, p_line_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE l opportunity_lines; r record;
BEGIN
  IF p_line_id IS NOT NULL THEN
    SELECT * INTO l FROM opportunity_lines WHERE opportunity_lines.id = p_line_id;
  END IF;
  r := line_apply(l, p, '');
  PERFORM api_fail_if_invalid(r.errors);
END $$;

CREATE OR REPLACE FUNCTION api_opportunity_create(p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE o opportunities; checked record; lines record;
BEGIN
  checked := opportunity_check(o, p, false);
  lines := lines_prepare(p->'lines', 'lines', 0);
  PERFORM api_fail_if_invalid(checked.errors || lines.errors);
  o := checked.o;
  INSERT INTO opportunities (account_id, name, owner_id, status_id, close_date, next_step, forecast_id, probability,
    competitor, source_id, loss_reason_id, description, win_loss_report, external_id, created_at, created_by)
  VALUES (o.account_id, o.name, o.owner_id, o.status_id, o.close_date, o.next_step, o.forecast_id, o.probability,
    o.competitor, o.source_id, o.loss_reason_id, o.description, o.win_loss_report, o.external_id, o.created_at,
    o.created_by)
  RETURNING * INTO o;
  PERFORM opportunity_mark_versioned(o.id);
  PERFORM opportunity_mark_created(o.id); -- the creating transaction writes no history
  PERFORM lines_store(o.id, lines.lines);
  RETURN QUERY SELECT * FROM opportunity_get_json(o.id);
END $$;

-- 404 unless the opportunity exists and is not deleted.
CREATE OR REPLACE FUNCTION opportunity_check_live(p_id bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM opportunities WHERE id = p_id AND deleted_at IS NULL) THEN
    PERFORM api_fail('C4404', 'No opportunity has this id.');
  END IF;
END $$;

CREATE OR REPLACE FUNCTION opportunity_lock_live(p_id bigint, p_if_match integer) RETURNS opportunities
LANGUAGE plpgsql AS $$
DECLARE o opportunities;
BEGIN
  SELECT * INTO o FROM opportunities WHERE opportunities.id = p_id AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No opportunity has this id.'); END IF;
  PERFORM api_check_version(o.version, p_if_match);
  RETURN o;
END $$;

CREATE OR REPLACE FUNCTION opportunity_store_changes(old opportunities, new opportunities) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF new IS NOT DISTINCT FROM old THEN RETURN; END IF;
  UPDATE opportunities SET account_id = new.account_id, name = new.name, owner_id = new.owner_id,
         status_id = new.status_id, close_date = new.close_date, next_step = new.next_step,
         forecast_id = new.forecast_id, probability = new.probability, competitor = new.competitor,
         source_id = new.source_id, loss_reason_id = new.loss_reason_id, description = new.description,
         win_loss_report = new.win_loss_report, external_id = new.external_id, updated_at = now(),
         version = opportunities.version + CASE WHEN opportunity_is_versioned(old.id) THEN 0 ELSE 1 END
   WHERE opportunities.id = old.id;
  PERFORM opportunity_mark_versioned(old.id);
END $$;

CREATE OR REPLACE FUNCTION api_opportunity_patch(p_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old opportunities;
BEGIN
  old := opportunity_lock_live(p_id, p_if_match);
  PERFORM opportunity_store_changes(old, opportunity_apply(old, p, false));
  RETURN QUERY SELECT * FROM opportunity_get_json(p_id);
END $$;

-- Upsert by external id. On replace, free-text and optional references
-- left out become null; fields the server defaults keep their value;
-- `lines`, when given, replace the whole set.
CREATE OR REPLACE FUNCTION api_opportunity_upsert(p_external_id text, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint, created boolean)
LANGUAGE plpgsql AS $$
DECLARE old opportunities; checked record; lines record; errors jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('opportunity:' || p_external_id));
  p := p || jsonb_build_object('external_id', p_external_id);
  SELECT * INTO old FROM opportunities o WHERE o.external_id = p_external_id AND o.deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    IF p_if_match IS NOT NULL THEN
      PERFORM api_fail('C4412', 'No opportunity has this external id, so If-Match cannot match.');
    END IF;
    RETURN QUERY SELECT c.body, c.version, c.id, true FROM api_opportunity_create(p) c;
    RETURN;
  END IF;
  PERFORM api_check_version(old.version, p_if_match);
  checked := opportunity_check(old, p - 'lines' - 'created_at', true);
  lines := lines_prepare(p->'lines', 'lines', 0);
  errors := checked.errors || lines.errors;
  -- created_at is set once, when the deal is created (or imported).
  IF p ? 'created_at' AND NOT api_caller_is_admin() THEN
    errors := errors || api_field_error('created_at', 'is read-only: only admins may import created_at');
  ELSIF p ? 'created_at' AND (p->>'created_at')::timestamptz IS DISTINCT FROM old.created_at THEN
    errors := errors || api_field_error('created_at', 'can only be set when the opportunity is created');
  END IF;
  PERFORM api_fail_if_invalid(errors);
  PERFORM opportunity_store_changes(old, checked.o);
  IF p ? 'lines' THEN
    DELETE FROM opportunity_lines WHERE opportunity_id = old.id;
    PERFORM lines_store(old.id, lines.lines);
  END IF;
  RETURN QUERY SELECT g.body, g.version, g.id, false FROM opportunity_get_json(old.id) g;
END $$;

CREATE OR REPLACE FUNCTION api_opportunity_delete(p_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old opportunities;
BEGIN
  old := opportunity_lock_live(p_id, p_if_match);
  UPDATE opportunities SET deleted_at = now(), updated_at = now(), version = opportunities.version + 1
   WHERE opportunities.id = p_id;
  RETURN QUERY SELECT * FROM opportunity_get_json(p_id);
END $$;

------------------------------------------------------------------------
-- Lines
------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION line_lock(p_opportunity_id bigint, p_line_id bigint, p_if_match integer) RETURNS opportunity_lines
LANGUAGE plpgsql AS $$
DECLARE l opportunity_lines;
BEGIN
  PERFORM opportunity_lock_live(p_opportunity_id, NULL);
  SELECT * INTO l FROM opportunity_lines
   WHERE opportunity_lines.id = p_line_id AND opportunity_id = p_opportunity_id FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'This opportunity has no line with this id.'); END IF;
  PERFORM api_check_version(l.version, p_if_match);
  RETURN l;
END $$;

-- If-Match on a new line refers to the opportunity (adding a line changes it).
CREATE OR REPLACE FUNCTION api_line_create(p_opportunity_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE l opportunity_lines; v_next integer; errors jsonb; r record;
BEGIN
  PERFORM opportunity_lock_live(p_opportunity_id, p_if_match);
  l.opportunity_id := p_opportunity_id;
  r := line_apply(l, p, '');
  l := r.l;
  errors := r.errors;
  PERFORM api_fail_if_invalid(errors);
  SELECT coalesce(max(position), 0) + 1 INTO v_next FROM opportunity_lines WHERE opportunity_id = p_opportunity_id;
  INSERT INTO opportunity_lines (opportunity_id, product_id, description, quantity, unit_price, position)
  VALUES (l.opportunity_id, l.product_id, l.description, l.quantity, l.unit_price, coalesce(l.position, v_next))
  RETURNING * INTO l;
  RETURN QUERY SELECT line_json(l), l.version, l.id;
END $$;

CREATE OR REPLACE FUNCTION api_line_patch(p_opportunity_id bigint, p_line_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old opportunity_lines; new opportunity_lines; errors jsonb; r record;
BEGIN
  old := line_lock(p_opportunity_id, p_line_id, p_if_match);
  r := line_apply(old, p, '');
  new := r.l;
  errors := r.errors;
  PERFORM api_fail_if_invalid(errors);
  IF new IS DISTINCT FROM old THEN
    UPDATE opportunity_lines SET product_id = new.product_id, description = new.description,
           quantity = new.quantity, unit_price = new.unit_price, position = new.position,
           updated_at = now(), version = opportunity_lines.version + 1
     WHERE opportunity_lines.id = p_line_id RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT line_json(new), new.version, new.id;
END $$;

CREATE OR REPLACE FUNCTION api_line_delete(p_opportunity_id bigint, p_line_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old opportunity_lines;
BEGIN
  old := line_lock(p_opportunity_id, p_line_id, p_if_match);
  DELETE FROM opportunity_lines WHERE opportunity_lines.id = p_line_id;
  RETURN QUERY SELECT line_json(old), old.version, old.id;
END $$;

-- Replaces the whole set atomically; answers the new set and the
-- opportunity's version (for the ETag).
CREATE OR REPLACE FUNCTION api_lines_replace(p_opportunity_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM opportunity_lock_live(p_opportunity_id, p_if_match);
  PERFORM lines_replace(p_opportunity_id, p, '');
  -- An empty set still changes the opportunity once.
  IF NOT opportunity_is_versioned(p_opportunity_id) THEN
    UPDATE opportunities SET updated_at = now(), version = opportunities.version + 1
     WHERE opportunities.id = p_opportunity_id;
  END IF;
  RETURN QUERY SELECT opportunity_lines_json(o.id), o.version, o.id FROM opportunities o
    WHERE o.id = p_opportunity_id;
END $$;
