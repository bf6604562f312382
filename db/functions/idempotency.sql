-- Idempotency keys: a POST retried with the same key and body within 24 h
-- gets the first response again instead of doing the work twice. Keys are
-- per user and stored hashed; the record commits with the write itself.

-- Runs first in the transaction of a POST that carries a key. Holds a lock
-- on the key until that transaction ends, so a racing retry gets 409; a
-- finished one is replayed (C4200 carries the stored response).
CREATE OR REPLACE FUNCTION api_idempotency_claim(p_key bytea, p_request bytea) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE k idempotency_keys; v_user bigint := api_caller();
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || v_user || ':' || encode(p_key, 'hex'), 0)) THEN
    PERFORM api_fail('C4409', 'A request with this Idempotency-Key is still in progress; retry it shortly.');
  END IF;
  SELECT * INTO k FROM idempotency_keys WHERE user_id = v_user AND key_hash = p_key;
  IF NOT FOUND THEN RETURN; END IF;
  IF k.created_at < now() - interval '24 hours' THEN
    DELETE FROM idempotency_keys WHERE user_id = v_user AND key_hash = p_key;
    RETURN;
  END IF;
  IF k.request_hash <> p_request THEN
    PERFORM api_fail('C4422', 'This Idempotency-Key was used with a different request; use a new key.',
                     api_field_error('Idempotency-Key', 'was already used with a different request'));
  END IF;
  PERFORM api_fail('C4200', 'replay', jsonb_build_object('status', k.status, 'location', k.location,
                                                          'etag', k.etag, 'body', k.body));
END $$;

-- Records the response of a POST that carried a key, in its transaction.
CREATE OR REPLACE FUNCTION api_idempotency_record(p_key bytea, p_request bytea, p_status integer, p_location text,
                                       p_etag text, p_body text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO idempotency_keys (user_id, key_hash, request_hash, status, location, etag, body)
  VALUES (api_caller(), p_key, p_request, p_status, p_location, p_etag, p_body);
  -- Now and then, forget keys past their 24 hours.
  IF random() < 0.01 THEN
    DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours';
  END IF;
END $$;
