-- The helpers every other function uses.
--
-- Conventions of the API functions (api_*, one call per request):
--   * they raise SQLSTATE C4xxx (xxx = HTTP status) with a sentence as
--     MESSAGE, a JSON array of {field, message} as DETAIL for 422 and a
--     reference count as HINT for 409;
--   * the caller is in the transaction settings app.user_id / app.role,
--     set by api_authenticate() in the same pipeline.

-- RFC 3339 in UTC with microseconds, the API's timestamp form. STABLE, as
-- its body is: PostgreSQL inlines it then (an IMMUTABLE label on a STABLE
-- body made it a function call per timestamp and doubled a GET's cost).
CREATE OR REPLACE FUNCTION api_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The calling user's id (NULL outside a request).
CREATE OR REPLACE FUNCTION api_caller() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION api_caller_is_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('app.role', true), '') = 'admin' $$;

-- Raises the error the service turns into a problem+json reply.
CREATE OR REPLACE FUNCTION api_fail(code text, message text, detail jsonb DEFAULT NULL, hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message,
    DETAIL = coalesce(detail::text, ''), HINT = coalesce(hint, '');
END $$;

-- Raises 422 listing every collected field error, if any.
CREATE OR REPLACE FUNCTION api_fail_if_invalid(errors jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb_array_length(errors) > 0 THEN
    PERFORM api_fail('C4422', 'The request has invalid fields.', errors);
  END IF;
END $$;

-- One field error, as a JSON array to concatenate with others.
CREATE OR REPLACE FUNCTION api_field_error(field text, message text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT jsonb_build_array(jsonb_build_object('field', field, 'message', message)) $$;

-- Checks If-Match: NULL means no precondition, -1 is "*" (any version of a
-- resource that exists), -3 a list of versions set in app.if_match.
CREATE OR REPLACE FUNCTION api_check_version(current_version integer, expected integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF expected = -3 THEN
    IF NOT current_version = ANY (string_to_array(current_setting('app.if_match', true), ',')::integer[]) THEN
      PERFORM api_fail('C4412', format('The resource is at version %s, none of the versions the request names.',
                                       current_version));
    END IF;
  ELSIF expected IS NOT NULL AND expected <> -1 AND expected <> current_version THEN
    PERFORM api_fail('C4412', format('The resource is at version %s; the request expected %s.',
                                     current_version, expected));
  END IF;
END $$;

-- Transaction-local sets of ids kept in one setting each (",12,40,"): a
-- setting per id would leave a new setting behind in the session for every
-- opportunity ever touched, which PostgreSQL keeps, and sorts, forever.
CREATE OR REPLACE FUNCTION txn_set_has(p_set text, p_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT position(',' || p_id || ',' IN coalesce(current_setting(p_set, true), '')) > 0
$$;

-- Adds p_id to the set; false when it was there already. PL/pgSQL of
-- plain expressions, evaluated without a query plan (an SQL function that
-- sets a value is not inlined: it was parsed and planned on every call).
DROP FUNCTION IF EXISTS txn_set_add(text, bigint); -- returned nothing
CREATE OR REPLACE FUNCTION txn_set_insert(p_set text, p_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE v_set text;
BEGIN
  IF txn_set_has(p_set, p_id) THEN RETURN false; END IF;
  v_set := set_config(p_set, coalesce(nullif(current_setting(p_set, true), ''), ',') || p_id || ',', true);
  RETURN true;
END $$;
