-- The history triggers (0007) decide first whether a change is recorded,
-- and only then do the work of recording it: a deal inside its grace
-- window (every deal while the request that creates it runs) used to have
-- both rows turned into JSON, and its creation looked up, for nothing.

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
