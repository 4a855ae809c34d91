-- Every subgraph's own copy (applied to its schema by the kit): what a mutation sent with an Idempotency-Key answered,
-- stored in the transaction of its writes, so that a retry with the same key is answered the same and writes nothing.
CREATE TABLE {{schema}}.idempotency_keys (
  tenant_id uuid NOT NULL,
  user_id text NOT NULL,
  key text NOT NULL,
  -- The signed body hash of the call (the subgraph operation and its variables): another request under the key is refused.
  request_hash text NOT NULL,
  response text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON {{schema}}.idempotency_keys (tenant_id, expires_at);

ALTER TABLE {{schema}}.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE {{schema}}.idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {{schema}}.idempotency_keys
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON {{schema}}.idempotency_keys TO {{app_role}};
