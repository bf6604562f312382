-- Foundation: users and tokens, lookup tables, accounts, and the SQL
-- functions the API calls (one call per request).
--
-- Conventions:
--   * constraints are named <table>__<field>__<kind> so the service can
--     name the offending field from a violation;
--   * API functions raise SQLSTATE C4xxx (xxx = HTTP status) with a
--     sentence as MESSAGE, a JSON array of {field, message} as DETAIL for
--     422 and a reference count as HINT for 409;
--   * the caller is in the transaction settings app.user_id / app.role,
--     set by api_authenticate() in the same pipeline.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- RFC 3339 in UTC with microseconds, the API's timestamp form.
CREATE FUNCTION api_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE FUNCTION api_caller() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.user_id', true), '')::bigint $$;

CREATE FUNCTION api_caller_is_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('app.role', true), '') = 'admin' $$;

CREATE FUNCTION api_fail(code text, message text, detail jsonb DEFAULT NULL, hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message,
    DETAIL = coalesce(detail::text, ''), HINT = coalesce(hint, '');
END $$;

-- Raises 422 listing every collected field error, if any.
CREATE FUNCTION api_fail_if_invalid(errors jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb_array_length(errors) > 0 THEN
    PERFORM api_fail('C4422', 'The request has invalid fields.', errors);
  END IF;
END $$;

CREATE FUNCTION api_field_error(field text, message text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT jsonb_build_array(jsonb_build_object('field', field, 'message', message)) $$;

-- Checks If-Match: NULL means no precondition.
CREATE FUNCTION api_check_version(current_version integer, expected integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF expected IS NOT NULL AND expected <> current_version THEN
    PERFORM api_fail('C4412', format('The resource is at version %s; the request expected %s.',
                                     current_version, expected));
  END IF;
END $$;

------------------------------------------------------------------------
-- Users and tokens
------------------------------------------------------------------------
CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL CONSTRAINT users__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  email      text NOT NULL CONSTRAINT users__email__check CHECK (char_length(email) BETWEEN 3 AND 254),
  role       text NOT NULL CONSTRAINT users__role__check CHECK (role IN ('admin', 'member')),
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version    integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users__email__unique ON users (lower(email));

CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint NOT NULL CONSTRAINT api_tokens__user_id__fk REFERENCES users (id),
  name         text NOT NULL CONSTRAINT api_tokens__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  token_hash   bytea NOT NULL CONSTRAINT api_tokens__token__unique UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

CREATE FUNCTION user_json(u users) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'role', u.role,
    'active', u.active, 'created_at', api_ts(u.created_at), 'updated_at', api_ts(u.updated_at),
    'version', u.version)
$$;

CREATE FUNCTION token_json(t api_tokens) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', t.id, 'user_id', t.user_id, 'name', t.name,
    'created_at', api_ts(t.created_at), 'last_used_at', api_ts(t.last_used_at),
    'revoked_at', api_ts(t.revoked_at))
$$;

-- Checks the bearer token and records the caller for the rest of the
-- transaction. last_used_at is written at most once a minute per token so
-- reads stay reads.
CREATE FUNCTION api_authenticate(p_hash bytea, p_admin_only boolean) RETURNS bigint
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
  RETURN v_user;
END $$;

CREATE FUNCTION api_user_create(p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE u users;
BEGIN
  INSERT INTO users (name, email, role)
  VALUES (p->>'name', p->>'email', coalesce(p->>'role', 'member'))
  RETURNING * INTO u;
  RETURN QUERY SELECT user_json(u), u.version, u.id;
END $$;

CREATE FUNCTION api_user_patch(p_id bigint, p jsonb, p_if_match integer)
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
  IF (old.role = 'admin' AND old.active) AND NOT (new.role = 'admin' AND new.active)
     AND NOT EXISTS (SELECT 1 FROM users o WHERE o.id <> p_id AND o.role = 'admin' AND o.active) THEN
    PERFORM api_fail('C4409', 'This is the last active admin; make another admin first.');
  END IF;
  IF new IS DISTINCT FROM old THEN
    UPDATE users SET name = new.name, role = new.role, active = new.active,
           updated_at = now(), version = users.version + 1
     WHERE users.id = p_id RETURNING * INTO new;
  END IF;
  RETURN QUERY SELECT user_json(new), new.version, new.id;
END $$;

CREATE FUNCTION api_token_owner_check(p_user_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT api_caller_is_admin() AND p_user_id IS DISTINCT FROM api_caller() THEN
    -- Members may only see their own tokens; another user's are 404 so
    -- that ids do not leak.
    PERFORM api_fail('C4404', 'No user has this id.');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user_id) THEN
    PERFORM api_fail('C4404', 'No user has this id.');
  END IF;
END $$;

CREATE FUNCTION api_token_create(p_user_id bigint, p_name text, p_hash bytea)
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

CREATE FUNCTION api_token_revoke(p_id bigint) RETURNS TABLE (body json, version integer, id bigint)
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

-- A new default replaces the old one (at most one per table).
CREATE FUNCTION lookup_clear_other_defaults(p_kind text, p_id bigint) RETURNS void
LANGUAGE sql AS $$
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
-- Accounts
------------------------------------------------------------------------
CREATE TABLE accounts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CONSTRAINT accounts__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  source_kind text NOT NULL DEFAULT 'source' CHECK (source_kind = 'source'),
  source_id   bigint,
  owner_id    bigint NOT NULL CONSTRAINT accounts__owner_id__fk REFERENCES users (id),
  website     text CONSTRAINT accounts__website__check CHECK (char_length(website) <= 500),
  phone       text CONSTRAINT accounts__phone__check CHECK (char_length(phone) <= 500),
  notes       text CONSTRAINT accounts__notes__check CHECK (char_length(notes) <= 10000),
  external_id text CONSTRAINT accounts__external_id__check CHECK (char_length(external_id) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  version     integer NOT NULL DEFAULT 1,
  deleted_at  timestamptz,
  CONSTRAINT accounts__source_id__fk FOREIGN KEY (source_kind, source_id) REFERENCES lookup_items (kind, id)
);
CREATE UNIQUE INDEX accounts__external_id__unique ON accounts (external_id)
  WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX accounts_owner ON accounts (owner_id, id);
CREATE INDEX accounts_source ON accounts (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX accounts_updated ON accounts (updated_at, id);
CREATE INDEX accounts_name_trgm ON accounts USING gin (name gin_trgm_ops);

-- How many records refer to a lookup item (extended as tables arrive).
CREATE FUNCTION lookup_reference_count(p_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM accounts WHERE source_id = p_id)
$$;

CREATE FUNCTION account_json(a accounts) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', a.id, 'name', a.name, 'source_id', a.source_id, 'owner_id', a.owner_id,
    'website', a.website, 'phone', a.phone, 'notes', a.notes, 'external_id', a.external_id,
    'created_at', api_ts(a.created_at), 'updated_at', api_ts(a.updated_at), 'version', a.version,
    'deleted_at', api_ts(a.deleted_at))
$$;

-- Applies a (validated) merge patch or full replacement to an account and
-- checks its references. On replace, absent fields fall back to defaults.
CREATE FUNCTION account_apply(a accounts, p jsonb, p_replace boolean) RETURNS accounts
LANGUAGE plpgsql AS $$
DECLARE errors jsonb := '[]'; old_source bigint := a.source_id; old_owner bigint := a.owner_id;
BEGIN
  IF p_replace THEN
    a.source_id := NULL; a.website := NULL; a.phone := NULL; a.notes := NULL;
    a.owner_id := coalesce(a.owner_id, api_caller());
  END IF;
  IF p ? 'name' THEN a.name := p->>'name'; END IF;
  IF p ? 'source_id' THEN a.source_id := (p->>'source_id')::bigint; END IF;
  IF p ? 'owner_id' THEN a.owner_id := (p->>'owner_id')::bigint; END IF;
  IF p ? 'website' THEN a.website := p->>'website'; END IF;
  IF p ? 'phone' THEN a.phone := p->>'phone'; END IF;
  IF p ? 'notes' THEN a.notes := p->>'notes'; END IF;
  IF p ? 'external_id' THEN a.external_id := p->>'external_id'; END IF;
  a.owner_id := coalesce(a.owner_id, api_caller());
  -- A value kept as it was may stay inactive; a new one must be active.
  IF a.source_id IS DISTINCT FROM old_source THEN
    errors := errors || lookup_reference_errors('source', a.source_id, 'source_id');
  END IF;
  IF a.owner_id IS DISTINCT FROM old_owner AND NOT EXISTS (SELECT 1 FROM users WHERE id = a.owner_id AND active) THEN
    errors := errors || api_field_error('owner_id', format('no active user has id %s', a.owner_id));
  END IF;
  PERFORM api_fail_if_invalid(errors);
  RETURN a;
END $$;

CREATE FUNCTION api_account_create(p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE a accounts;
BEGIN
  a := account_apply(a, p, false);
  INSERT INTO accounts (name, source_id, owner_id, website, phone, notes, external_id)
  VALUES (a.name, a.source_id, a.owner_id, a.website, a.phone, a.notes, a.external_id)
  RETURNING * INTO a;
  RETURN QUERY SELECT account_json(a), a.version, a.id;
END $$;

CREATE FUNCTION account_store_changes(old accounts, new accounts) RETURNS accounts
LANGUAGE plpgsql AS $$
BEGIN
  IF new IS NOT DISTINCT FROM old THEN RETURN old; END IF;
  UPDATE accounts SET name = new.name, source_id = new.source_id, owner_id = new.owner_id,
         website = new.website, phone = new.phone, notes = new.notes, external_id = new.external_id,
         updated_at = now(), version = accounts.version + 1
   WHERE accounts.id = old.id RETURNING * INTO new;
  RETURN new;
END $$;

CREATE FUNCTION api_account_patch(p_id bigint, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old accounts; new accounts;
BEGIN
  SELECT * INTO old FROM accounts WHERE accounts.id = p_id AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No account has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  new := account_store_changes(old, account_apply(old, p, false));
  RETURN QUERY SELECT account_json(new), new.version, new.id;
END $$;

-- Upsert by external id: 201 when created, 200 when replaced.
CREATE FUNCTION api_account_upsert(p_external_id text, p jsonb, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint, created boolean)
LANGUAGE plpgsql AS $$
DECLARE old accounts; new accounts;
BEGIN
  -- Serialise concurrent upserts of the same external id.
  PERFORM pg_advisory_xact_lock(hashtext('account:' || p_external_id));
  p := p || jsonb_build_object('external_id', p_external_id);
  SELECT * INTO old FROM accounts WHERE external_id = p_external_id AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    IF p_if_match IS NOT NULL THEN
      PERFORM api_fail('C4412', 'No account has this external id, so If-Match cannot match.');
    END IF;
    RETURN QUERY SELECT c.body, c.version, c.id, true FROM api_account_create(p) c;
    RETURN;
  END IF;
  PERFORM api_check_version(old.version, p_if_match);
  new := account_store_changes(old, account_apply(old, p, true));
  RETURN QUERY SELECT account_json(new), new.version, new.id, false;
END $$;

CREATE FUNCTION api_account_delete(p_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old accounts;
BEGIN
  SELECT * INTO old FROM accounts WHERE accounts.id = p_id AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No account has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  UPDATE accounts SET deleted_at = now(), updated_at = now(), version = accounts.version + 1
   WHERE accounts.id = p_id RETURNING * INTO old;
  RETURN QUERY SELECT account_json(old), old.version, old.id;
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
