-- change_events.changed_by keeps no foreign key: checking it locked the
-- acting user's row (FOR KEY SHARE) at every event, so concurrent writes
-- of one user queued on multixacts, for a reference nothing deletes.
ALTER TABLE change_events DROP CONSTRAINT change_events__changed_by__fk;
