-- The change feed (GET /changes, SPEC §9): events written in the writing
-- transaction, by triggers no code path can bypass (like the history).
--
-- Positions (db/schema/0011): an event's major is the greater of its
-- transaction's id and the newest id completed when the trigger runs (its
-- snapshot's xmax - 1), so it is at or above the id of every transaction
-- that committed before the event was written. An event is listed once its
-- major is below the xmin of the reader's snapshot: every transaction that
-- could still commit has an id at or above that xmin and writes majors at
-- or above its id, so nothing can appear later behind a position a reader
-- has passed; and a major is an id that has completed, or is the writer's
-- own, so the event is listed as soon as the writer and the transactions
-- older than it are done. One resource's events are in the order of its
-- versions even when an older transaction writes it after a younger one
-- committed it: the writer held the row lock until it committed, so the
-- later writer's major is at or above the earlier one's, and its sequence
-- number is taken later.
--
-- One event per resource per transaction, written at commit (the
-- triggers are deferred) with the resource as it is then: a request that
-- writes a deal and its lines gives one opportunity event carrying the
-- final lines, at the deal's final version. A transaction that moves a
-- resource through several versions (a batch) gives one event, for the
-- last one; each resource's events keep the order of its versions.
-- `created` when the transaction inserted the row, `deleted` when it ends
-- deleted (soft-deleted, or gone: lookup items), `updated` otherwise.

-- Appends one event of the current transaction and queues its webhook
-- deliveries (db/functions/webhooks.sql): every event is written here, so
-- none goes without its deliveries. The position is worked out in plain
-- expressions, which PL/pgSQL evaluates without a query plan.
CREATE OR REPLACE FUNCTION change_event_add(p_resource_type text, p_action text, p_id bigint, p_version integer,
                                            p_data json) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  -- The newest transaction id completed (the snapshot's xmax is the one after it).
  v_major xid8 := greatest(pg_current_xact_id(),
                           (pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1)::text::xid8);
  v_minor bigint := nextval('change_events_minor');
  v_id text := 'evt_' || v_major || '_' || v_minor;
  v_type text := p_resource_type || '.' || p_action;
BEGIN
  INSERT INTO change_events (position_major, position_minor, id, type, resource_type, resource_id, version,
                             changed_by, occurred_at, data)
  VALUES (v_major, v_minor, v_id, v_type, p_resource_type, p_id, p_version, api_caller(), now(), p_data);
  INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, position_major, position_minor, body)
  SELECT w.id, v_id, v_type, v_major, v_minor, webhook_body(v_id, v_type, now(), p_data)
    FROM webhook_subscriptions w
   WHERE w.active AND webhook_event_matches(w.events, v_type);
END $$;

-- The first row event of a resource in a transaction writes its event
-- (with the state at commit); the ids written are kept in a
-- transaction-local set per resource type, checked before any JSON is
-- built. A DELETE writes its event regardless: the row is gone at commit,
-- so the row events before it wrote nothing.

-- Accounts and opportunities are deleted softly (an update setting
-- deleted_at); a row deleted for good (by hand) gives a `deleted` event
-- with its last state.
CREATE OR REPLACE FUNCTION account_change_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM change_event_add('account', 'deleted', OLD.id, OLD.version, account_json(OLD));
    RETURN NULL;
  END IF;
  -- An update that left the version alone (none does today) is no change.
  IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN RETURN NULL; END IF;
  -- false when this transaction wrote the resource's event already
  IF NOT txn_set_insert('app.changed_accounts', NEW.id) THEN RETURN NULL; END IF;
  PERFORM change_event_add('account',
           CASE WHEN a.deleted_at IS NOT NULL THEN 'deleted' WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
           a.id, a.version, account_json(a))
     FROM accounts a WHERE a.id = NEW.id;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION opportunity_change_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE v_answer text;
BEGIN
  IF TG_OP = 'DELETE' THEN -- its lines went first (they refer to it)
    PERFORM change_event_add('opportunity', 'deleted', OLD.id, OLD.version,
              (rtrim(opportunity_json_of(OLD, c.ref)::text, '}') || ', "lines" : []}')::json)
       FROM user_ref(OLD.created_by) c;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN RETURN NULL; END IF;
  -- false when this transaction wrote the resource's event already
  IF NOT txn_set_insert('app.changed_opportunities', NEW.id) THEN RETURN NULL; END IF;
  -- The deal as this transaction's last write answered with it, when its
  -- row is still the version that answer was built from.
  v_answer := current_setting('app.opportunity_answer_row', true);
  IF starts_with(v_answer, NEW.id || ' ') THEN
    PERFORM change_event_add('opportunity',
             CASE WHEN o.deleted_at IS NOT NULL THEN 'deleted' WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
             o.id, o.version, current_setting('app.opportunity_answer')::json)
       FROM opportunities o WHERE o.id = NEW.id AND o.ctid = split_part(v_answer, ' ', 2)::tid;
    IF FOUND THEN RETURN NULL; END IF;
  END IF;
  PERFORM change_event_add('opportunity',
           CASE WHEN d.deleted_at IS NOT NULL THEN 'deleted' WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
           d.id, d.version, d.body::json)
     FROM opportunity_document_any(NEW.id) d;
  RETURN NULL;
END $$;

-- A lookup item's event data names its table (GET /lookups/{table}/{id}).
CREATE OR REPLACE FUNCTION lookup_change_json(l lookup_items) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT (rtrim(lookup_json(l)::text, '}') || ', "table" : ' || to_json(l.kind)::text || '}')::json
$$;

-- Lookup items are deleted for good: the DELETE's own event writes the
-- last state, and earlier row events of a deleted item add nothing.
CREATE OR REPLACE FUNCTION lookup_item_change_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM change_event_add('lookup_item', 'deleted', OLD.id, OLD.version, lookup_change_json(OLD));
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN RETURN NULL; END IF;
  -- false when this transaction wrote the resource's event already
  IF NOT txn_set_insert('app.changed_lookup_items', NEW.id) THEN RETURN NULL; END IF;
  PERFORM change_event_add('lookup_item', CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
           l.id, l.version, lookup_change_json(l))
     FROM lookup_items l WHERE l.id = NEW.id;
  RETURN NULL;
END $$;

-- Constraint triggers, deferred to the commit, so each event carries the
-- final state. PostgreSQL has no CREATE OR REPLACE for constraint
-- triggers: each is dropped and made again on every migrate.
DROP TRIGGER IF EXISTS account_change_event ON accounts;
CREATE CONSTRAINT TRIGGER account_change_event AFTER INSERT OR UPDATE OR DELETE ON accounts
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION account_change_event();
DROP TRIGGER IF EXISTS opportunity_change_event ON opportunities;
CREATE CONSTRAINT TRIGGER opportunity_change_event AFTER INSERT OR UPDATE OR DELETE ON opportunities
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION opportunity_change_event();
DROP TRIGGER IF EXISTS lookup_item_change_event ON lookup_items;
CREATE CONSTRAINT TRIGGER lookup_item_change_event AFTER INSERT OR UPDATE OR DELETE ON lookup_items
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lookup_item_change_event();

-- 410 when events after the reader's position (a cursor, or `since`) may
-- have been deleted by the retention clean-up.
CREATE OR REPLACE FUNCTION api_changes_check(p_major bigint, p_minor bigint, p_since timestamptz) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE p change_events_purged;
BEGIN
  SELECT * INTO p FROM change_events_purged;
  IF (p_major::text::xid8, p_minor) < (p.position_major, p.position_minor) OR p_since <= p.occurred_at THEN
    PERFORM api_fail('C4410', 'Events after this position are no longer kept: take a new cursor (the '
                              'next_cursor of GET /changes?since=<now>), read the resources again from their '
                              'lists, then follow the feed from that cursor.');
  END IF;
END $$;

-- Deletes up to p_batch events older than p_days (readable ones only,
-- oldest first) and records the highest position and time deleted; returns
-- how many went.
CREATE OR REPLACE FUNCTION change_events_purge(p_days integer, p_batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE v_count integer; v_at timestamptz; v_major xid8; v_minor bigint;
BEGIN
  WITH gone AS (
    DELETE FROM change_events e
     WHERE (e.position_major, e.position_minor) IN (
       SELECT o.position_major, o.position_minor FROM change_events o
        WHERE o.occurred_at < now() - make_interval(days => p_days)
          AND o.position_major < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY o.occurred_at LIMIT p_batch)
    RETURNING e.position_major, e.position_minor, e.occurred_at)
  SELECT (SELECT count(*) FROM gone), (SELECT max(occurred_at) FROM gone), t.position_major, t.position_minor
    INTO v_count, v_at, v_major, v_minor
    FROM (SELECT g.position_major, g.position_minor FROM gone g
           ORDER BY g.position_major DESC, g.position_minor DESC LIMIT 1) t;
  IF v_major IS NULL THEN RETURN 0; END IF;
  UPDATE change_events_purged
     SET position_major = greatest(position_major, v_major),
         position_minor = CASE WHEN (v_major, v_minor) > (position_major, position_minor) THEN v_minor
                               ELSE position_minor END,
         occurred_at = greatest(occurred_at, v_at);
  RETURN v_count;
END $$;
