-- Two indexes every event paid for and nothing reads any more:
-- * the latest event of a resource: an event's position no longer starts
--   from the resource's previous one (db/functions/changes.sql takes the
--   snapshot's xmax instead, which is past it);
-- * the unique event id: it is made from the primary key ('evt_' major
--   '_' minor), so it is unique already.
DROP INDEX change_events_resource;
ALTER TABLE change_events DROP CONSTRAINT change_events__id__unique;
