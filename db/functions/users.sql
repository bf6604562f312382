-- Users and their API tokens.

-- The JSON forms of a user and a token (the secret is never stored).
CREATE OR REPLACE FUNCTION user_json(u users) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'role', u.role,
    'active', u.active, 'created_at', api_ts(u.created_at), 'updated_at', api_ts(u.updated_at),
    'version', u.version)
$$;

CREATE OR REPLACE FUNCTION token_json(t api_tokens) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', t.id, 'user_id', t.user_id, 'name', t.name,
    'created_at', api_ts(t.created_at), 'last_used_at', api_ts(t.last_used_at),
    'revoked_at', api_ts(t.revoked_at))
$$;

-- Checks the bearer token and records the caller for the rest of the
-- transaction; answers "user_id:role" for the service's token cache.
-- last_used_at is written at most once a minute per token so reads stay reads.
CREATE OR REPLACE FUNCTION api_authenticate(p_hash bytea, p_admin_only boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_token_id bigint; v_used timestamptz; v_user bigint; v_role text;
BEGIN
  SELECT t.id, t.last_used_at, u.id, u.role INTO v_token_id, v_used, v_user, v_role
    FROM api_tokens t JOIN users u ON u.id = t.user_id
   WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND u.active;
  IF NOT FOUND THEN
    PERFORM api_fail('C4401', 'The bearer token is unknown, revoked, or belongs to an inactive user.');
  END IF;
  IF p_admin_only AND v_role <> 'admin' THEN
    PERFORM api_fail('C4403', 'This action needs the admin role.');
  END IF;
  PERFORM set_config('app.user_id', v_user::text, true), set_config('app.role', v_role, true);
  IF v_used IS NULL OR v_used < now() - interval '60 seconds' THEN
    UPDATE api_tokens SET last_used_at = now() WHERE id = v_token_id;
  END IF;
  RETURN v_user || ':' || v_role;
END $$;

-- Any change to tokens or users (revocation, deactivation, a new role),
-- through the API or not, tells every service instance to forget the
-- tokens it has checked (store/auth_cache.c).
CREATE OR REPLACE FUNCTION api_tokens_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('crm_auth', '');
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER api_tokens_changed AFTER UPDATE OF revoked_at, user_id, token_hash OR DELETE ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_changed();
CREATE OR REPLACE TRIGGER users_changed AFTER UPDATE OF active, role OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_changed();

CREATE OR REPLACE FUNCTION api_user_create(p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE u users;
BEGIN
  INSERT INTO users (name, email, role, active)
  VALUES (p->>'name', p->>'email', coalesce(p->>'role', 'member'), coalesce((p->>'active')::boolean, true))
  RETURNING * INTO u;
  RETURN QUERY SELECT user_json(u), u.version, u.id;
END $$;

CREATE OR REPLACE FUNCTION api_user_patch(p_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old users; new users;
BEGIN
  SELECT * INTO old FROM users WHERE users.id = p_id FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No user has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  new := old;
  IF p ? 'name' THEN new.name := p->>'name'; END IF;
  IF p ? 'role' THEN new.role := p->>'role'; END IF;
  IF p ? 'active' THEN new.active := (p->>'active')::boolean; END IF;
  IF (old.role = 'admin' AND old.active) AND NOT (new.role = 'admin' AND new.active) THEN
    -- Two requests removing two different admins would each still see the
    -- other one active; removals of admins take turns, and the check below
    -- (a new statement, so a new snapshot) sees the one before it.
    PERFORM pg_advisory_xact_lock(hashtext('users:admins'));
    IF NOT EXISTS (SELECT 1 FROM users o WHERE o.id <> p_id AND o.role = 'admin' AND o.active) THEN
      PERFORM api_fail('C4409', 'This is the last active admin; make another admin first.');
    END IF;
  END IF;
  IF new IS DISTINCT FROM old THEN
    UPDATE users SET name = new.name, role = new.role, active = new.active,
           updated_at = now(), version = users.version + 1
     WHERE users.id = p_id RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT user_json(new), new.version, new.id;
END $$;

-- Another user's tokens: a member who lists them or creates one gets 403
-- (any member can list the users, so a 404 would hide nothing). An unknown
-- user is 404 to everyone, and checked first. DELETE /tokens/{id} keeps 404
-- for another user's token: members cannot list other users' tokens.
CREATE OR REPLACE FUNCTION api_token_owner_check(p_user_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user_id) THEN
    PERFORM api_fail('C4404', 'No user has this id.');
  END IF;
  IF NOT api_caller_is_admin() AND p_user_id IS DISTINCT FROM api_caller() THEN
    PERFORM api_fail('C4403', 'Only an admin or the user themself may list or create this user''s tokens.');
  END IF;
END $$;

-- A function, so that the owner check always runs first: as a join in the
-- list query the planner could skip it when the user has no tokens.
CREATE OR REPLACE FUNCTION api_token_list(p_user_id bigint, p_after bigint, p_limit integer)
RETURNS TABLE (body json, key bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api_token_owner_check(p_user_id);
  RETURN QUERY SELECT token_json(t), t.id FROM api_tokens t
   WHERE t.user_id = p_user_id AND (p_after IS NULL OR t.id > p_after) ORDER BY t.id LIMIT p_limit + 1;
END $$;

CREATE OR REPLACE FUNCTION api_token_create(p_user_id bigint, p_name text, p_hash bytea)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE t api_tokens;
BEGIN
  PERFORM api_token_owner_check(p_user_id);
  IF NOT (SELECT active FROM users WHERE users.id = p_user_id) THEN
    PERFORM api_fail('C4409', 'The user is inactive; activate it before giving it a token.');
  END IF;
  INSERT INTO api_tokens (user_id, name, token_hash) VALUES (p_user_id, p_name, p_hash) RETURNING * INTO t;
  RETURN QUERY SELECT token_json(t), 0, t.id;
END $$;

CREATE OR REPLACE FUNCTION api_token_revoke(p_id bigint) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE t api_tokens;
BEGIN
  SELECT * INTO t FROM api_tokens WHERE api_tokens.id = p_id FOR UPDATE;
  IF NOT FOUND OR (NOT api_caller_is_admin() AND t.user_id IS DISTINCT FROM api_caller()) THEN
    PERFORM api_fail('C4404', 'No token has this id.');
  END IF;
  UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE api_tokens.id = p_id RETURNING * INTO t;
  RETURN QUERY SELECT token_json(t), 0, t.id;
END $$;

-- The reference to a user embedded in other resources: {id, name}.
CREATE OR REPLACE FUNCTION user_ref(p_id bigint) RETURNS TABLE (ref json)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT json_build_object('id', u.id, 'name', u.name) FROM users u WHERE u.id = p_id
$$;
