-- Foundation: users and their API tokens.
--
-- Constraints are named <table>__<field>__<kind> so the service can name
-- the offending field from a violation. The functions, views and triggers
-- over these tables are in db/functions/.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

------------------------------------------------------------------------
-- Users and tokens
------------------------------------------------------------------------
CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL CONSTRAINT users__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  email      text NOT NULL CONSTRAINT users__email__check CHECK (char_length(email) BETWEEN 3 AND 254),
  role       text NOT NULL CONSTRAINT users__role__check CHECK (role IN ('admin', 'member')),
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version    integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users__email__unique ON users (lower(email));

CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint NOT NULL CONSTRAINT api_tokens__user_id__fk REFERENCES users (id),
  name         text NOT NULL CONSTRAINT api_tokens__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  token_hash   bytea NOT NULL CONSTRAINT api_tokens__token__unique UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
