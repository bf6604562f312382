-- Accounts.

------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------
CREATE TABLE accounts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CONSTRAINT accounts__name__check CHECK (char_length(name) BETWEEN 1 AND 200),
  source_kind text NOT NULL DEFAULT 'source' CHECK (source_kind = 'source'),
  source_id   bigint,
  owner_id    bigint NOT NULL CONSTRAINT accounts__owner_id__fk REFERENCES users (id),
  website     text CONSTRAINT accounts__website__check CHECK (char_length(website) <= 500),
  phone       text CONSTRAINT accounts__phone__check CHECK (char_length(phone) <= 500),
  notes       text CONSTRAINT accounts__notes__check CHECK (char_length(notes) <= 10000),
  external_id text CONSTRAINT accounts__external_id__check CHECK (char_length(external_id) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  version     integer NOT NULL DEFAULT 1,
  deleted_at  timestamptz,
  CONSTRAINT accounts__source_id__fk FOREIGN KEY (source_kind, source_id) REFERENCES lookup_items (kind, id)
);
CREATE UNIQUE INDEX accounts__external_id__unique ON accounts (external_id)
  WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX accounts_owner ON accounts (owner_id, id);
CREATE INDEX accounts_source ON accounts (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX accounts_updated ON accounts (updated_at, id);
CREATE INDEX accounts_name_trgm ON accounts USING gin (name gin_trgm_ops);
