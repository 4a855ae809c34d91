-- Rotating refresh tokens: a family is a session; each token points at the one that replaced it.
ALTER TABLE auth.refresh_tokens ADD COLUMN replaced_by uuid REFERENCES auth.refresh_tokens (id);
CREATE INDEX refresh_tokens_session ON auth.refresh_tokens (tenant_id, session_id);
ALTER TABLE auth.sessions ADD COLUMN revoked_reason text;

-- TOTP authenticators (RFC 6238). The secret is encrypted at rest; last_time_step stops a code being used twice.
CREATE TABLE auth.totp_factors (
  user_id uuid PRIMARY KEY REFERENCES auth.credentials (user_id),
  tenant_id uuid NOT NULL,
  secret_encrypted text NOT NULL,
  confirmed_at timestamptz,
  last_time_step bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Second-step challenges: short-lived, single-use, bound to a user and tenant, destroyed after 5 wrong codes.
CREATE TABLE auth.login_challenges (
  id_hash bytea PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.credentials (user_id),
  refresh_delivery text NOT NULL CHECK (refresh_delivery IN ('BODY', 'COOKIE')),
  failed_attempts int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

-- Every auth event. tenant_id is null only for events of the service itself (key rotation).
CREATE TABLE auth.audit_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid,
  user_id uuid,
  session_id uuid,
  client_address text,
  event text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILURE')),
  reason text,
  occurred_at timestamptz(3) NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_events_tenant_page ON auth.audit_events (tenant_id, occurred_at, id);

-- Revocations are written here in the transaction that revokes, then relayed to the bus: none is lost if the bus
-- is down at that moment. Requests may only append (no RLS, no SELECT); the relay reads as the owner.
CREATE TABLE auth.revocation_outbox (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX revocation_outbox_pending ON auth.revocation_outbox (id) WHERE published_at IS NULL;

-- Signing keys, private halves encrypted at rest (AES-256-GCM). Not tenant data: only the service reads them.
CREATE TABLE auth.signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  public_jwk jsonb NOT NULL,
  private_key_encrypted text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  signs_from timestamptz NOT NULL,
  unpublish_at timestamptz
);

ALTER TABLE auth.totp_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.totp_factors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.totp_factors
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE auth.login_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.login_challenges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.login_challenges
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE auth.audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.audit_events
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON auth.totp_factors, auth.login_challenges TO gatehouse_app;
GRANT SELECT, INSERT ON auth.audit_events TO gatehouse_app;
GRANT INSERT ON auth.revocation_outbox TO gatehouse_app;
GRANT USAGE ON SEQUENCE auth.revocation_outbox_id_seq TO gatehouse_app;
