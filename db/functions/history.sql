-- Opportunity history: one change-logging layer that no code path can
-- bypass. Triggers on opportunities and opportunity_lines write the log in
-- the transaction of the change, whoever makes it (an API function, an
-- upsert, an import, or plain SQL); the acting user comes from app.user_id.
--
-- Rules (SPEC §3): nothing is recorded less than
-- settings.history_grace_seconds after the opportunity's created_at (at
-- exactly that age it is); one entry per changed field; entries of one
-- request share change_id and changed_at; references carry their labels as
-- they were; a line change gives a `lines` entry with snapshots plus one
-- `value` entry per request when the value moved; no entry for a no-op.

-- The id shared by every entry of the current transaction.
CREATE OR REPLACE FUNCTION history_change_id() RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE v text := current_setting('app.change_id', true);
BEGIN
  IF v IS NULL OR v = '' THEN
    v := gen_random_uuid()::text;
    PERFORM set_config('app.change_id', v, true);
  END IF;
  RETURN v::uuid;
END $$;

-- Append-only: entries cannot be changed or removed, except while the
-- transaction that wrote them folds several value moves into one entry.
CREATE OR REPLACE FUNCTION opportunity_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.change_id::text = coalesce(current_setting('app.change_id', true), '') THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION 'opportunity history is append-only' USING ERRCODE = 'C4405';
END $$;
CREATE OR REPLACE TRIGGER opportunity_history_append_only BEFORE UPDATE OR DELETE ON opportunity_history
  FOR EACH ROW EXECUTE FUNCTION opportunity_history_append_only();
CREATE OR REPLACE TRIGGER opportunity_history_no_truncate BEFORE TRUNCATE ON opportunity_history
  FOR EACH STATEMENT EXECUTE FUNCTION opportunity_history_append_only();

-- The transaction that creates an opportunity records no history for it
-- (its own lines are part of the creation, not changes).
CREATE OR REPLACE FUNCTION opportunity_mark_created(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN PERFORM txn_set_insert('app.created', p_id); END $$;

-- True when changes to this opportunity are recorded now.
CREATE OR REPLACE FUNCTION history_applies(p_id bigint, p_created_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT NOT txn_set_has('app.created', p_id)
     AND now() - p_created_at >= make_interval(secs => (SELECT history_grace_seconds FROM settings))
$$;

-- Appends one entry (none when the value did not change).
CREATE OR REPLACE FUNCTION history_add(p_id bigint, p_field text, p_old jsonb, p_new jsonb,
                            p_old_label text DEFAULT NULL, p_new_label text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE v_user bigint := api_caller();
BEGIN
  IF p_old IS NOT DISTINCT FROM p_new THEN RETURN; END IF;
  INSERT INTO opportunity_history (opportunity_id, change_id, changed_at, changed_by, changed_by_name, field,
                                   old_value, new_value, old_label, new_label)
  VALUES (p_id, history_change_id(), now(), v_user, (SELECT name FROM users WHERE id = v_user), p_field,
          p_old, p_new, p_old_label, p_new_label);
END $$;

-- A lookup item's label as it is now.
CREATE OR REPLACE FUNCTION lookup_label(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT label FROM lookup_items WHERE id = p_id $$;

-- The history triggers decide first whether a change is recorded, and
-- only then do the work of recording it (turning both rows into JSON,
-- looking up the deal's creation): a deal inside its grace window (every
-- deal while the request that creates it runs) costs nothing more.
CREATE OR REPLACE FUNCTION opportunity_history_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  o jsonb; n jsonb; f text;
BEGIN
  IF NOT history_applies(NEW.id, NEW.created_at) THEN RETURN NULL; END IF;
  o := to_jsonb(OLD);
  n := to_jsonb(NEW);
  -- Plain fields: their JSON is their API form (dates as YYYY-MM-DD).
  FOREACH f IN ARRAY ARRAY['name', 'close_date', 'next_step', 'probability', 'competitor', 'description',
                           'win_loss_report', 'external_id'] LOOP
    IF o->f IS DISTINCT FROM n->f THEN
      PERFORM history_add(NEW.id, f, o->f, n->f);
    END IF;
  END LOOP;
  -- Lookup references carry their labels as they are at this moment.
  FOREACH f IN ARRAY ARRAY['status_id', 'forecast_id', 'source_id', 'loss_reason_id'] LOOP
    IF o->f IS DISTINCT FROM n->f THEN
      PERFORM history_add(NEW.id, f, o->f, n->f, lookup_label((o->>f)::bigint), lookup_label((n->>f)::bigint));
    END IF;
  END LOOP;
  IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN
    PERFORM history_add(NEW.id, 'account_id', o->'account_id', n->'account_id',
      (SELECT name FROM accounts WHERE id = OLD.account_id), (SELECT name FROM accounts WHERE id = NEW.account_id));
  END IF;
  IF NEW.owner_id IS DISTINCT FROM OLD.owner_id THEN
    PERFORM history_add(NEW.id, 'owner_id', o->'owner_id', n->'owner_id',
      (SELECT name FROM users WHERE id = OLD.owner_id), (SELECT name FROM users WHERE id = NEW.owner_id));
  END IF;
  IF NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
    PERFORM history_add(NEW.id, 'deleted_at', to_jsonb(api_ts(OLD.deleted_at)), to_jsonb(api_ts(NEW.deleted_at)));
  END IF;
  IF NEW.value IS DISTINCT FROM OLD.value THEN
    -- Several line writes in one request fold into one entry: first old, last new.
    INSERT INTO opportunity_history AS h (opportunity_id, change_id, changed_at, changed_by, changed_by_name, field,
                                          old_value, new_value)
    VALUES (NEW.id, history_change_id(), now(), api_caller(), (SELECT name FROM users WHERE id = api_caller()),
            'value', to_jsonb(OLD.value::text), to_jsonb(NEW.value::text))
    ON CONFLICT (opportunity_id, change_id) WHERE field = 'value' DO UPDATE SET new_value = EXCLUDED.new_value;
    DELETE FROM opportunity_history
     WHERE opportunity_id = NEW.id AND change_id = history_change_id() AND field = 'value' AND old_value = new_value;
  END IF;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_history AFTER UPDATE ON opportunities
  FOR EACH ROW EXECUTE FUNCTION opportunity_history_on_update();

CREATE OR REPLACE FUNCTION opportunity_lines_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.opportunity_id ELSE NEW.opportunity_id END;
BEGIN
  IF txn_set_has('app.created', v_id)
     OR NOT history_applies(v_id, (SELECT created_at FROM opportunities WHERE id = v_id)) THEN
    RETURN NULL;
  END IF;
  PERFORM history_add(v_id, 'lines',
    CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(line_json(OLD)) END,
    CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(line_json(NEW)) END);
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_lines_history AFTER INSERT OR UPDATE OR DELETE ON opportunity_lines
  FOR EACH ROW EXECUTE FUNCTION opportunity_lines_history();

CREATE OR REPLACE FUNCTION history_json(h opportunity_history) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', h.id, 'opportunity_id', h.opportunity_id, 'change_id', h.change_id,
    'changed_at', api_ts(h.changed_at),
    'changed_by', CASE WHEN h.changed_by IS NOT NULL THEN json_build_object('id', h.changed_by, 'name', h.changed_by_name) END,
    'field', h.field, 'old_value', h.old_value, 'new_value', h.new_value,
    'old_label', h.old_label, 'new_label', h.new_label)
$$;

-- History outlives a deleted opportunity: only one that never existed is 404.
CREATE OR REPLACE FUNCTION opportunity_check_exists(p_id bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM opportunities WHERE id = p_id) THEN
    PERFORM api_fail('C4404', 'No opportunity has this id.');
  END IF;
END $$;
