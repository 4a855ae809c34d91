-- Every subgraph's own copy (applied to its schema by the kit): the events of its subscriptions, written in the
-- transaction of the change they announce and relayed to the event bus after it commits. None is lost when the bus
-- is down at that moment, none is sent for a change rolled back. Requests may only append (no SELECT); the relay
-- reads and deletes as the service's login.
CREATE TABLE {{schema}}.event_outbox (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
GRANT INSERT ON {{schema}}.event_outbox TO {{app_role}};
GRANT USAGE ON SEQUENCE {{schema}}.event_outbox_id_seq TO {{app_role}};
