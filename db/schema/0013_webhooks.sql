-- Webhooks: subscriptions and their deliveries (the outbox). A delivery is
-- written in the transaction that wrote its event, so a rollback leaves
-- none; the delivery worker of any instance takes it from here.

CREATE TABLE webhook_subscriptions (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url             text NOT NULL CONSTRAINT webhook_subscriptions__url__check CHECK (char_length(url) BETWEEN 1 AND 2000),
  events          text[] NOT NULL CONSTRAINT webhook_subscriptions__events__check CHECK (cardinality(events) >= 1),
  description     text CONSTRAINT webhook_subscriptions__description__check CHECK (char_length(description) <= 500),
  -- Kept as given ("whsec_" + base64): the worker signs with it.
  secret          text NOT NULL,
  active          boolean NOT NULL DEFAULT true,
  disabled_reason text,
  disabled_at     timestamptz,
  -- The instance delivering to it now, until when (a crashed instance's
  -- lease runs out and another takes over).
  leased_by       uuid,
  lease_until     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  version         integer NOT NULL DEFAULT 1
);

CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  -- The event's position in the change feed: deliveries of a subscription
  -- go out in this order, once no open transaction can still commit one
  -- before it.
  position_major   xid8 NOT NULL,
  position_minor   bigint NOT NULL,
  body             text NOT NULL, -- the exact bytes sent, the same on every attempt
  status           text NOT NULL DEFAULT 'pending'
                     CONSTRAINT webhook_deliveries__status__check CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error       text,
  last_attempt_at  timestamptz,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  -- Retries stop (and the subscription is disabled) 3 days after this.
  retry_from       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (subscription_id, position_major, position_minor, id)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, id);
