-- Accounts.

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

-- The database's checks of a body alone, for a 422 that lists every invalid
-- field even when some already failed before the database (raises 422).
CREATE FUNCTION api_account_check(p jsonb, p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE a accounts;
BEGIN
  IF p_id IS NOT NULL THEN
    SELECT * INTO a FROM accounts WHERE accounts.id = p_id;
  END IF;
  PERFORM account_apply(a, p, false);
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
-- p_if_match: NULL (no If-Match), -1 (If-Match: *, must exist) or a version.
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

