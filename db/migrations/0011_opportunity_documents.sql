-- The JSON of opportunities as table functions the planner inlines into
-- the statement that reads them.
--
-- A scalar SQL function whose body holds a subquery (opportunity_json's
-- creator, opportunity_lines_json's aggregate) is never inlined: it runs as
-- a function, and its body is planned again on every execution of the
-- statement that calls it. That planning was most of the database's time
-- for GET /opportunities/{id}. Set-returning SQL functions are inlined, so
-- the creator and the lines come from LATERAL parts of one statement whose
-- plan is prepared once per connection. The JSON keeps one definition:
-- opportunity_json_of (no subquery, so it is inlined as well).

-- The opportunity's JSON given its creator's reference {id, name}.
CREATE FUNCTION opportunity_json_of(o opportunities, p_created_by json) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', o.id, 'account_id', o.account_id, 'name', o.name, 'owner_id', o.owner_id,
    'status_id', o.status_id, 'close_date', o.close_date, 'next_step', o.next_step,
    'forecast_id', o.forecast_id, 'probability', o.probability, 'competitor', o.competitor,
    'source_id', o.source_id, 'loss_reason_id', o.loss_reason_id, 'description', o.description,
    'win_loss_report', o.win_loss_report, 'external_id', o.external_id,
    'value', o.value::text, 'weighted_value', o.weighted_value::text, 'outcome', o.outcome,
    'created_at', api_ts(o.created_at), 'created_by', p_created_by,
    'updated_at', api_ts(o.updated_at), 'version', o.version, 'deleted_at', api_ts(o.deleted_at))
$$;

-- The reference to a user embedded in other resources: {id, name}.
CREATE FUNCTION user_ref(p_id bigint) RETURNS TABLE (ref json)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT json_build_object('id', u.id, 'name', u.name) FROM users u WHERE u.id = p_id
$$;

-- The lines of an opportunity as one JSON array, in position order.
CREATE FUNCTION opportunity_lines_array(p_id bigint) RETURNS TABLE (lines json)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT coalesce(json_agg(line_json(l) ORDER BY l.position, l.id), '[]'::json)
    FROM opportunity_lines l WHERE l.opportunity_id = p_id
$$;

-- The list form (no lines), for statements that call it per row.
CREATE OR REPLACE FUNCTION opportunity_json(o opportunities) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT opportunity_json_of(o, c.ref) FROM user_ref(o.created_by) c
$$;

CREATE OR REPLACE FUNCTION opportunity_lines_json(p_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT a.lines FROM opportunity_lines_array(p_id) a
$$;

-- Any deal (deleted ones too) with its lines: the body, version and id.
CREATE FUNCTION opportunity_document_any(p_id bigint)
RETURNS TABLE (body text, version integer, id bigint, deleted_at timestamptz)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT rtrim(opportunity_json_of(o, c.ref)::text, '}') || ', "lines" : ' || a.lines::text || '}', o.version, o.id,
         o.deleted_at
    FROM opportunities o
    CROSS JOIN LATERAL user_ref(o.created_by) c
    CROSS JOIN LATERAL opportunity_lines_array(o.id) a
   WHERE o.id = p_id
$$;

-- GET /opportunities/{id}: the live deal (no row when there is none).
CREATE FUNCTION opportunity_document(p_id bigint) RETURNS TABLE (body text, version integer, id bigint)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT d.body, d.version, d.id FROM opportunity_document_any(p_id) d WHERE d.deleted_at IS NULL
$$;

-- What the writes reply with (0005), now inlined into their statements.
CREATE OR REPLACE FUNCTION opportunity_get_json(p_id bigint) RETURNS TABLE (body json, version integer, id bigint)
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT d.body::json, d.version, d.id FROM opportunity_document_any(p_id) d
$$;
