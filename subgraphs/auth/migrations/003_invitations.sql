-- Invitations: a user created by an admin chooses a password with a single-use token (stored as a hash).
CREATE TABLE auth.invitations (
  token_hash bytea PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.credentials (user_id),
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz
);

ALTER TABLE auth.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.invitations
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON auth.invitations TO gatehouse_app;
GRANT INSERT ON auth.credentials TO gatehouse_app;
