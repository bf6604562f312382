-- The change feed (GET /changes): an outbox of events written by triggers
-- in the transaction of each change (db/functions/changes.sql).
--
-- An event's position is (position_major, position_minor). The major is
-- the writing transaction's id, or the major of the resource's previous
-- event when that is higher; the minor comes from a sequence. An event is
-- readable once its major is below the xmin of the reader's snapshot: no
-- transaction that could still commit can then take a position before it.

CREATE SEQUENCE change_events_minor;

CREATE TABLE change_events (
  position_major xid8 NOT NULL,
  position_minor bigint NOT NULL DEFAULT nextval('change_events_minor'),
  id             text NOT NULL CONSTRAINT change_events__id__unique UNIQUE,
  type           text NOT NULL,
  resource_type  text NOT NULL,
  resource_id    bigint NOT NULL,
  version        integer NOT NULL,
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  changed_by     bigint CONSTRAINT change_events__changed_by__fk REFERENCES users (id),
  -- The resource as its GET shows it, kept as written (key order included).
  data           json NOT NULL,
  PRIMARY KEY (position_major, position_minor)
);
-- A resource's latest event (its next event's position starts from it).
CREATE INDEX change_events_resource
  ON change_events (resource_type, resource_id, position_major DESC, position_minor DESC);
-- `since` and the retention clean-up.
CREATE INDEX change_events_occurred ON change_events (occurred_at);

-- The highest position the retention clean-up deleted: a cursor below it
-- may have missed events (410, resync from the lists).
CREATE TABLE change_events_purged (
  one            boolean PRIMARY KEY DEFAULT true CHECK (one),
  position_major xid8 NOT NULL DEFAULT '0',
  position_minor bigint NOT NULL DEFAULT 0,
  occurred_at    timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO change_events_purged DEFAULT VALUES;
