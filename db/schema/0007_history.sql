-- Opportunity history: the append-only log of changes to opportunities
-- and their lines, written by triggers (db/functions/history.sql).

CREATE TABLE opportunity_history (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  opportunity_id  bigint NOT NULL REFERENCES opportunities (id),
  change_id       uuid NOT NULL,
  changed_at      timestamptz NOT NULL,
  changed_by      bigint REFERENCES users (id),
  changed_by_name text,
  field           text NOT NULL,
  old_value       jsonb,
  new_value       jsonb,
  old_label       text,
  new_label       text
);
CREATE INDEX opportunity_history_opportunity ON opportunity_history (opportunity_id, id);
-- One `value` entry per request, however many lines it touched.
CREATE UNIQUE INDEX opportunity_history_value_once ON opportunity_history (opportunity_id, change_id)
  WHERE field = 'value';
