-- Idempotency keys: a POST retried with the same key and body within 24 h
-- gets the first response again instead of doing the work twice. Keys are
-- per user and stored hashed; the record commits with the write itself.

CREATE TABLE idempotency_keys (
  user_id      bigint NOT NULL REFERENCES users (id),
  key_hash     bytea NOT NULL,
  request_hash bytea NOT NULL,
  status       integer NOT NULL,
  location     text,
  etag         text,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key_hash)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
