-- Accounts.

CREATE OR REPLACE FUNCTION account_json(a accounts) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', a.id, 'name', a.name, 'source_id', a.source_id, 'owner_id', a.owner_id,
    'website', a.website, 'phone', a.phone, 'notes', a.notes, 'external_id', a.external_id,
    'created_at', api_ts(a.created_at), 'updated_at', api_ts(a.updated_at), 'version', a.version,
    'deleted_at', api_ts(a.deleted_at))
$$;

-- Applies a (validated) merge patch or full replacement to an account and
-- checks its references. On replace, absent fields fall back to defaults.
CREATE OR REPLACE FUNCTION account_apply(a accounts, p jsonb, p_replace boolean) RETURNS accounts
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
CREATE OR REPLACE FUNCTION api_account_check(p jsonb, p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE a accounts;
BEGIN
  IF p_id IS NOT NULL THEN
    SELECT * INTO a FROM accounts WHERE accounts.id = p_id;
  END IF;
  PERFORM account_apply(a, p, false);
END $$;

CREATE OR REPLACE FUNCTION api_account_create(p jsonb) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE a accounts;
BEGIN
  a := account_apply(a, p, false);
  INSERT INTO accounts (name, source_id, owner_id, website, phone, notes, external_id)
  VALUES (a.name, a.source_id, a.owner_id, a.website, a.phone, a.notes, a.external_id)
  RETURNING * INTO a;
  RETURN QUERY SELECT account_json(a), a.version, a.id;
END $$;

CREATE OR REPLACE FUNCTION account_store_changes(old accounts, new accounts) RETURNS accounts
LANGUAGE plpgsql AS $$
BEGIN
  IF new IS NOT DISTINCT FROM old THEN RETURN old; END IF;
  UPDATE accounts SET name = new.name, source_id = new.source_id, owner_id = new.owner_id,
         website = new.website, phone = new.phone, notes = new.notes, external_id = new.external_id,
         updated_at = now(), version = accounts.version + 1
   WHERE accounts.id = old.id RETURNING * INTO new;
  RETURN new;
END $$;

CREATE OR REPLACE FUNCTION api_account_patch(p_id bigint, p jsonb, p_if_match integer)
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
CREATE OR REPLACE FUNCTION api_account_upsert(p_external_id text, p jsonb, p_if_match integer)
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

-- A soft delete, refused (409) while live opportunities name the account.
CREATE OR REPLACE FUNCTION api_account_delete(p_id bigint, p_if_match integer)
RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE old accounts; live bigint;
BEGIN
  SELECT * INTO old FROM accounts WHERE accounts.id = p_id AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN PERFORM api_fail('C4404', 'No account has this id.'); END IF;
  PERFORM api_check_version(old.version, p_if_match);
  SELECT count(*) INTO live FROM opportunities WHERE account_id = p_id AND deleted_at IS NULL;
  IF live > 0 THEN
    PERFORM api_fail('C4409', format('The account still has %s live opportunit%s; delete or move them first.',
                                     live, CASE WHEN live = 1 THEN 'y' ELSE 'ies' END), NULL, live::text);
  END IF;
  UPDATE accounts SET deleted_at = now(), updated_at = now(), version = accounts.version + 1
   WHERE accounts.id = p_id RETURNING * INTO old;
  RETURN QUERY SELECT account_json(old), old.version, old.id;
END $$;

-- 404 unless the account exists and is not deleted.
CREATE OR REPLACE FUNCTION account_check_live(p_id bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_id AND deleted_at IS NULL) THEN
    PERFORM api_fail('C4404', 'No account has this id.');
  END IF;
END $$;
