-- Monthly totals of the live opportunities (tables: db/schema/0009), kept
-- by the writing transactions, so the forecast reports and the dashboard
-- add up a few thousand totals instead of a million deals.
--
-- One total per close month, owner, status, forecast category and outcome:
-- the number of live deals and the sums of their values and weighted
-- values (each deal's figures as stored, already rounded, so a sum of
-- totals is exactly the sum of the deals' figures).
--
-- Writers never update a total: a trigger appends what a statement changed
-- to opportunity_total_changes, so two transactions writing deals of the
-- same owner and month never wait for each other (an UPDATE of a shared
-- total would hold its row lock until commit and line up every such write
-- behind the one before). The server folds the changes into the totals
-- every second (opportunity_totals_compact), and every reader adds the
-- changes not folded in yet, so what it reads is always exact: both tables
-- are read in one snapshot, and a fold moves changes atomically.

-- The first day of p_date's month.
CREATE OR REPLACE FUNCTION opportunity_month(p_date date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT date_trunc('month', p_date::timestamp)::date $$;

-- Months since year 0 (year * 12 + month - 1), as opportunity_totals.month_no
-- keeps them: period indexes are then integer arithmetic, not an extract()
-- per total (which parses its unit name and computes in numeric on every
-- call).
CREATE OR REPLACE FUNCTION opportunity_month_no(p_date date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (extract(year FROM p_date) * 12 + extract(month FROM p_date) - 1)::integer
$$;

-- Appends the net change of one statement on opportunities: the live rows
-- after it count +1, the live rows before it -1, summed per total; keys
-- whose changes cancel out (a rename, a new next step) append nothing.
CREATE OR REPLACE FUNCTION opportunity_totals_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO opportunity_total_changes (close_month, owner_id, status_id, forecast_id, outcome, deals, value, weighted_value)
    SELECT opportunity_month(close_date), owner_id, status_id, forecast_id, outcome,
           count(*), sum(value), sum(weighted_value)
      FROM new_rows WHERE deleted_at IS NULL
     GROUP BY 1, 2, 3, 4, 5;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO opportunity_total_changes (close_month, owner_id, status_id, forecast_id, outcome, deals, value, weighted_value)
    SELECT close_month, owner_id, status_id, forecast_id, outcome, sum(deals), sum(value), sum(weighted_value)
      FROM (SELECT opportunity_month(close_date) AS close_month, owner_id, status_id, forecast_id, outcome,
                   1 AS deals, value, weighted_value
              FROM new_rows WHERE deleted_at IS NULL
            UNION ALL
            SELECT opportunity_month(close_date), owner_id, status_id, forecast_id, outcome,
                   -1, -value, -weighted_value
              FROM old_rows WHERE deleted_at IS NULL) d
     GROUP BY 1, 2, 3, 4, 5
    HAVING sum(deals) <> 0 OR sum(value) <> 0 OR sum(weighted_value) <> 0;
  ELSE
    INSERT INTO opportunity_total_changes (close_month, owner_id, status_id, forecast_id, outcome, deals, value, weighted_value)
    SELECT opportunity_month(close_date), owner_id, status_id, forecast_id, outcome,
           -count(*), -sum(value), -sum(weighted_value)
      FROM old_rows WHERE deleted_at IS NULL
     GROUP BY 1, 2, 3, 4, 5;
  END IF;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_totals_inserted AFTER INSERT ON opportunities
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_totals_record();
CREATE OR REPLACE TRIGGER opportunity_totals_updated AFTER UPDATE ON opportunities
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION opportunity_totals_record();
CREATE OR REPLACE TRIGGER opportunity_totals_deleted AFTER DELETE ON opportunities
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_totals_record();

-- Counts every total again from the deals (after a load with triggers off,
-- such as the benchmark's, or to repair); takes the table's write lock so
-- no deal changes meanwhile.
CREATE OR REPLACE FUNCTION opportunity_totals_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE opportunities IN SHARE MODE;
  DELETE FROM opportunity_total_changes;
  DELETE FROM opportunity_totals;
  INSERT INTO opportunity_totals (close_month, owner_id, status_id, forecast_id, outcome, deals, value, weighted_value)
  SELECT opportunity_month(close_date), owner_id, status_id, forecast_id, outcome,
         count(*), sum(value), sum(weighted_value)
    FROM opportunities WHERE deleted_at IS NULL
   GROUP BY 1, 2, 3, 4, 5;
END $$;

CREATE OR REPLACE FUNCTION opportunity_totals_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM opportunity_totals_rebuild();
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER opportunity_totals_truncated AFTER TRUNCATE ON opportunities
  FOR EACH STATEMENT EXECUTE FUNCTION opportunity_totals_truncated();

-- Folds the appended changes into the totals; returns how many it folded.
-- One server at a time (the others skip: nothing is lost by waiting for
-- the next second). Totals that drop to no deals are removed.
CREATE OR REPLACE FUNCTION opportunity_totals_compact() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  folded bigint := 0;
  t record;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('opportunity_totals_compact')) THEN
    RETURN 0;
  END IF;
  FOR t IN
    WITH moved AS (DELETE FROM opportunity_total_changes RETURNING *)
    INSERT INTO opportunity_totals AS o (close_month, owner_id, status_id, forecast_id, outcome, deals, value, weighted_value)
    SELECT close_month, owner_id, status_id, forecast_id, outcome, sum(deals), sum(value), sum(weighted_value)
      FROM moved GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (close_month, owner_id, status_id, forecast_id, outcome) DO UPDATE
       SET deals = o.deals + excluded.deals, value = o.value + excluded.value,
           weighted_value = o.weighted_value + excluded.weighted_value
    RETURNING o.*
  LOOP
    folded := folded + 1;
    IF t.deals = 0 THEN
      DELETE FROM opportunity_totals o
       WHERE (o.close_month, o.owner_id, o.status_id, o.forecast_id, o.outcome)
           = (t.close_month, t.owner_id, t.status_id, t.forecast_id, t.outcome);
    END IF;
  END LOOP;
  RETURN folded;
END $$;

-- The first day of the first month lying wholly on or after p_date.
CREATE OR REPLACE FUNCTION opportunity_first_whole_month(p_date date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_date = opportunity_month(p_date) THEN p_date
              ELSE (opportunity_month(p_date) + interval '1 month')::date END
$$;

-- The figures of the live deals closing within [p_from, p_to] (either may
-- be -infinity/infinity), as rows to be summed per month or coarser: the
-- totals and pending changes of the whole months inside the window
-- [first whole month, month after p_to), and the deals of the days before
-- and after those months. The bounds are expressions of the parameters
-- alone, so each part is one range scan of an index.
-- A key's rows may sum to no deals (changes not folded yet): callers that
-- list keys with deals check the sum.
CREATE OR REPLACE FUNCTION opportunity_totals_between(p_from date, p_to date)
RETURNS TABLE (close_month date, owner_id bigint, status_id bigint, forecast_id bigint, outcome text,
               deals bigint, value numeric, weighted_value numeric, month_no integer)
LANGUAGE sql STABLE AS $$
  SELECT t.* FROM opportunity_totals t
   WHERE t.close_month >= opportunity_first_whole_month(p_from) AND t.close_month < opportunity_month(p_to + 1)
  UNION ALL
  SELECT c.* FROM opportunity_total_changes c
   WHERE c.close_month >= opportunity_first_whole_month(p_from) AND c.close_month < opportunity_month(p_to + 1)
  UNION ALL
  SELECT opportunity_month(o.close_date), o.owner_id, o.status_id, o.forecast_id, o.outcome, 1, o.value,
         o.weighted_value, opportunity_month_no(o.close_date)
    FROM opportunities o
   WHERE o.deleted_at IS NULL
     AND o.close_date >= p_from AND o.close_date < least(opportunity_first_whole_month(p_from), p_to + 1)
  UNION ALL
  SELECT opportunity_month(o.close_date), o.owner_id, o.status_id, o.forecast_id, o.outcome, 1, o.value,
         o.weighted_value, opportunity_month_no(o.close_date)
    FROM opportunities o
   WHERE o.deleted_at IS NULL
     AND o.close_date >= greatest(opportunity_month(p_to + 1), opportunity_first_whole_month(p_from))
     AND o.close_date <= p_to
$$;

-- Every total that differs from a count of the deals (none, when the
-- totals are right): the check the tests run after each kind of write.
CREATE OR REPLACE FUNCTION opportunity_totals_mismatches()
RETURNS TABLE (close_month date, owner_id bigint, status_id bigint, forecast_id bigint, outcome text,
               kept_deals bigint, kept_value numeric, kept_weighted_value numeric,
               counted_deals bigint, counted_value numeric, counted_weighted_value numeric)
LANGUAGE sql STABLE AS $$
  WITH kept AS (
    SELECT t.close_month, t.owner_id, t.status_id, t.forecast_id, t.outcome,
           sum(t.deals)::bigint AS deals, sum(t.value) AS value, sum(t.weighted_value) AS weighted_value
      FROM opportunity_totals_between('-infinity', 'infinity') t
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(t.deals) <> 0 OR sum(t.value) <> 0 OR sum(t.weighted_value) <> 0
  ),
  counted AS (
    SELECT opportunity_month(o.close_date) AS close_month, o.owner_id, o.status_id, o.forecast_id, o.outcome,
           count(*) AS deals, sum(o.value) AS value, sum(o.weighted_value) AS weighted_value
      FROM opportunities o WHERE o.deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5
  )
  SELECT coalesce(k.close_month, c.close_month), coalesce(k.owner_id, c.owner_id),
         coalesce(k.status_id, c.status_id), coalesce(k.forecast_id, c.forecast_id),
         coalesce(k.outcome, c.outcome), k.deals, k.value, k.weighted_value, c.deals, c.value, c.weighted_value
    FROM kept k
    FULL JOIN counted c USING (close_month, owner_id, status_id, forecast_id, outcome)
   WHERE k.deals IS DISTINCT FROM c.deals OR k.value IS DISTINCT FROM c.value
      OR k.weighted_value IS DISTINCT FROM c.weighted_value
$$;
