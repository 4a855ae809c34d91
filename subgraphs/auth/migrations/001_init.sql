-- Login resolves a tenant slug before any tenant is known: this lookup table carries no secrets and no RLS.
CREATE TABLE auth.tenants (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE
);

CREATE TABLE auth.credentials (
  user_id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES auth.tenants (id),
  email text NOT NULL,
  password_hash text NOT NULL,
  roles text[] NOT NULL CHECK (roles <@ ARRAY['ADMIN', 'MANAGER', 'AGENT', 'MEMBER']),
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);
CREATE UNIQUE INDEX credentials_tenant_email ON auth.credentials (tenant_id, lower(email));

CREATE TABLE auth.sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.credentials (user_id),
  amr text[] NOT NULL,
  auth_time timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_user ON auth.sessions (tenant_id, user_id);

-- Refresh tokens are stored only as SHA-256 hashes.
CREATE TABLE auth.refresh_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  session_id uuid NOT NULL REFERENCES auth.sessions (id),
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

ALTER TABLE auth.credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.credentials
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.sessions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.refresh_tokens
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT ON auth.tenants TO gatehouse_app;
GRANT SELECT, INSERT, UPDATE ON auth.credentials, auth.sessions, auth.refresh_tokens TO gatehouse_app;
