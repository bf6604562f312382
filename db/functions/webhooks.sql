-- Webhooks: subscriptions (admin), the body of a queued delivery,
-- and the delivery worker's two short transactions (claim, record). No
-- transaction stays open while a delivery is on the wire: an open one
-- would hold the change feed's horizon back.

CREATE OR REPLACE FUNCTION webhook_json(s webhook_subscriptions) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', s.id, 'url', s.url, 'events', to_json(s.events), 'description', s.description,
    'active', s.active, 'disabled_reason', s.disabled_reason, 'disabled_at', api_ts(s.disabled_at),
    'created_at', api_ts(s.created_at), 'updated_at', api_ts(s.updated_at), 'version', s.version)
$$;

CREATE OR REPLACE FUNCTION webhook_delivery_json(d webhook_deliveries) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', d.id, 'subscription_id', d.subscription_id, 'event_id', d.event_id,
    'event_type', d.event_type, 'status', d.status, 'attempts', d.attempts,
    'last_status_code', d.last_status_code, 'last_error', d.last_error,
    'last_attempt_at', api_ts(d.last_attempt_at),
    'next_attempt_at', CASE WHEN d.status = 'pending' THEN api_ts(d.next_attempt_at) END,
    'delivered_at', api_ts(d.delivered_at), 'created_at', api_ts(d.created_at))
$$;

-- An event type matches a subscription's entry when it is that type or
-- starts with it and a dot ("opportunity" takes "opportunity.updated").
CREATE OR REPLACE FUNCTION webhook_event_matches(p_events text[], p_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT EXISTS (SELECT 1 FROM unnest(p_events) e WHERE p_type = e OR starts_with(p_type, e || '.'))
$$;

-- The outbox: change_event_add (db/functions/changes.sql) queues a
-- delivery of each event for every active subscription it matches, in the
-- statement that writes the event (a rollback leaves none), at the
-- event's position. The body is the exact bytes every attempt sends.
CREATE OR REPLACE FUNCTION webhook_body(p_id text, p_type text, p_occurred_at timestamptz, p_data json) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', p_id, 'type', p_type, 'occurred_at', api_ts(p_occurred_at), 'data', p_data)::text
$$;

-- The trigger that queued them before (one more trigger call per event).
DROP TRIGGER IF EXISTS webhook_enqueue ON change_events;
DROP FUNCTION IF EXISTS webhook_enqueue();
DROP FUNCTION IF EXISTS webhook_body(change_events);

CREATE OR REPLACE FUNCTION webhook_apply(s webhook_subscriptions, p jsonb) RETURNS webhook_subscriptions
LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'url' THEN s.url := p->>'url'; END IF;
  IF p ? 'events' THEN s.events := ARRAY(SELECT jsonb_array_elements_text(p->'events')); END IF;
  IF p ? 'description' THEN s.description := p->>'description'; END IF;
  IF p ? 'active' THEN s.active := (p->>'active')::boolean; END IF;
  RETURN s;
END $$;

CREATE OR REPLACE FUNCTION api_webhook_create(p jsonb, p_secret text) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE s webhook_subscriptions;
BEGIN
  s.active := true;
  s := webhook_apply(s, p);
  INSERT INTO webhook_subscriptions (url, events, description, secret, active)
  VALUES (s.url, s.events, s.description, p_secret, s.active)
  RETURNING * INTO s;
  RETURN QUERY SELECT webhook_json(s), s.version, s.id;
END $$;

-- PATCH; turning a disabled subscription on again clears why it was off
-- and gives its waiting deliveries a new retry window, due now.
CREATE OR REPLACE FUNCTION api_webhook_patch(p_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old webhook_subscriptions; new webhook_subscriptions;
BEGIN
  SELECT * INTO old FROM webhook_subscriptions w WHERE w.id = p_id FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No webhook has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  new := webhook_apply(old, p);
  IF new IS DISTINCT FROM old THEN
    IF new.active AND NOT old.active THEN
      new.disabled_reason := NULL; new.disabled_at := NULL;
      UPDATE webhook_deliveries d SET next_attempt_at = now(), retry_from = now()
       WHERE d.subscription_id = p_id AND d.status = 'pending';
    ELSIF old.active AND NOT new.active THEN
      new.disabled_reason := 'turned off by an admin'; new.disabled_at := now();
    END IF;
    UPDATE webhook_subscriptions w SET url = new.url, events = new.events, description = new.description,
           active = new.active, disabled_reason = new.disabled_reason, disabled_at = new.disabled_at,
           updated_at = now(), version = w.version + 1
     WHERE w.id = p_id RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT webhook_json(new), new.version, new.id;
END $$;

CREATE OR REPLACE FUNCTION api_webhook_delete(p_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old webhook_subscriptions;
BEGIN
  SELECT * INTO old FROM webhook_subscriptions w WHERE w.id = p_id FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No webhook has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  DELETE FROM webhook_subscriptions w WHERE w.id = p_id;
  RETURN QUERY SELECT webhook_json(old), old.version, old.id;
END $$;

-- A ping event, queued behind the subscription's other deliveries.
CREATE OR REPLACE FUNCTION api_webhook_ping(p_id bigint) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE d webhook_deliveries; v_event text := 'evt_ping_' || replace(gen_random_uuid()::text, '-', '');
BEGIN
  PERFORM 1 FROM webhook_subscriptions w WHERE w.id = p_id;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No webhook has this id.'); END IF;
  INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, position_major, position_minor, body)
  VALUES (p_id, v_event, 'ping', pg_current_xact_id(), 0,
          json_build_object('id', v_event, 'type', 'ping', 'occurred_at', api_ts(now()),
                            'data', json_build_object('webhook_id', p_id))::text)
  RETURNING * INTO d;
  RETURN QUERY SELECT webhook_delivery_json(d), 0, d.id;
END $$;

CREATE OR REPLACE FUNCTION api_webhook_delivery_list(p_id bigint, p_before bigint, p_limit integer)
RETURNS TABLE (body json, key bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM webhook_subscriptions w WHERE w.id = p_id;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No webhook has this id.'); END IF;
  RETURN QUERY SELECT webhook_delivery_json(d), d.id FROM webhook_deliveries d
   WHERE d.subscription_id = p_id AND (p_before IS NULL OR d.id < p_before)
   ORDER BY d.id DESC LIMIT p_limit + 1;
END $$;

-- Redeliver now: pending again, due now, with a new retry window.
CREATE OR REPLACE FUNCTION api_webhook_delivery_retry(p_id bigint, p_delivery_id bigint)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE d webhook_deliveries;
BEGIN
  UPDATE webhook_deliveries x SET status = 'pending', next_attempt_at = now(), retry_from = now()
   WHERE x.id = p_delivery_id AND x.subscription_id = p_id RETURNING * INTO d;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'This webhook has no delivery with this id.'); END IF;
  RETURN QUERY SELECT webhook_delivery_json(d), 0, d.id;
END $$;

-- The worker's claim (one short transaction): the least recently served
-- active subscription that no live instance holds and whose first waiting
-- delivery is due and readable (its position below every open
-- transaction's, so nothing can still commit before it), leased to
-- p_instance; then up to p_batch of its readable deliveries in order.
CREATE OR REPLACE FUNCTION webhook_claim(p_instance uuid, p_batch integer, p_lease_seconds integer)
RETURNS TABLE (subscription_id bigint, url text, secret text, delivery_id bigint, event_id text, body text)
LANGUAGE plpgsql AS $$
DECLARE v_id bigint; horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
BEGIN
  SELECT w.id INTO v_id FROM webhook_subscriptions w
   WHERE w.active AND (w.leased_by IS NULL OR w.lease_until < now())
     AND EXISTS (SELECT 1 FROM (SELECT d.next_attempt_at, d.position_major FROM webhook_deliveries d
                                 WHERE d.subscription_id = w.id AND d.status = 'pending'
                                 ORDER BY d.position_major, d.position_minor, d.id LIMIT 1) head
                  WHERE head.next_attempt_at <= now() AND head.position_major < horizon)
   ORDER BY w.lease_until NULLS FIRST, w.id
   LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE webhook_subscriptions w SET leased_by = p_instance, lease_until = now() + make_interval(secs => p_lease_seconds)
   WHERE w.id = v_id;
  RETURN QUERY SELECT w.id, w.url, w.secret, d.id, d.event_id, d.body
    FROM webhook_subscriptions w JOIN webhook_deliveries d ON d.subscription_id = w.id
   WHERE w.id = v_id AND d.status = 'pending' AND d.position_major < horizon
   ORDER BY d.position_major, d.position_minor, d.id LIMIT p_batch;
  -- The check above may have seen, in its snapshot, a delivery another
  -- worker has recorded since (its lease ended meanwhile): with nothing
  -- to send, the lease ends now, or nobody would record it.
  IF NOT FOUND THEN
    UPDATE webhook_subscriptions w SET leased_by = NULL WHERE w.id = v_id;
  END IF;
END $$;

-- The wait after the n-th failed attempt, in seconds (before scaling).
CREATE OR REPLACE FUNCTION webhook_retry_delay(p_attempts integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_attempts BETWEEN 1 AND 6 THEN (ARRAY[5, 30, 120, 900, 3600, 21600])[p_attempts] ELSE 43200 END
$$;

-- The worker's record of a batch (one short transaction): p_results is
-- [{id, status, error}], status the receiver's HTTP status (0 when none
-- came; error says why). A 2xx is delivered; a failure waits
-- webhook_retry_delay x p_scale, or, 3 days after its retry window
-- opened, fails and turns the subscription off. The lease ends. Returns
-- how many were delivered and how many failed.
CREATE OR REPLACE FUNCTION webhook_record(p_instance uuid, p_subscription bigint, p_results jsonb,
                                          p_scale double precision)
RETURNS TABLE (delivered integer, failed integer)
LANGUAGE plpgsql AS $$
DECLARE r record; d webhook_deliveries; v_ok integer := 0; v_failed integer := 0;
BEGIN
  FOR r IN SELECT * FROM jsonb_to_recordset(p_results) AS x(id bigint, status integer, error text) LOOP
    SELECT * INTO d FROM webhook_deliveries x WHERE x.id = r.id AND x.status = 'pending' FOR UPDATE;
    CONTINUE WHEN NOT FOUND;
    IF r.status BETWEEN 200 AND 299 THEN
      v_ok := v_ok + 1;
      UPDATE webhook_deliveries x SET status = 'delivered', attempts = x.attempts + 1,
             last_status_code = r.status, last_error = NULL, last_attempt_at = now(), delivered_at = now()
       WHERE x.id = d.id;
    ELSE
      v_failed := v_failed + 1;
      IF now() >= d.retry_from + interval '3 days' THEN
        UPDATE webhook_deliveries x SET status = 'failed', attempts = x.attempts + 1,
               last_status_code = nullif(r.status, 0), last_error = r.error, last_attempt_at = now()
         WHERE x.id = d.id;
        UPDATE webhook_subscriptions w SET active = false, disabled_at = now(), updated_at = now(),
               version = w.version + 1,
               disabled_reason = format('delivery %s of event %s failed for 3 days (last error: %s)',
                                        d.id, d.event_id, r.error)
         WHERE w.id = d.subscription_id AND w.active;
      ELSE
        UPDATE webhook_deliveries x SET attempts = x.attempts + 1, last_status_code = nullif(r.status, 0),
               last_error = r.error, last_attempt_at = now(),
               next_attempt_at = now() + make_interval(secs => webhook_retry_delay(x.attempts + 1) * p_scale)
         WHERE x.id = d.id;
      END IF;
    END IF;
  END LOOP;
  UPDATE webhook_subscriptions w SET leased_by = NULL, lease_until = now()
   WHERE w.id = p_subscription AND w.leased_by = p_instance;
  RETURN QUERY SELECT v_ok, v_failed;
END $$;

-- How many deliveries wait (the webhook_backlog metric).
CREATE OR REPLACE FUNCTION webhook_backlog() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' $$;
