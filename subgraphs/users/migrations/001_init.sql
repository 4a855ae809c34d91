CREATE TABLE users.tenants (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,40}$'),
  name text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE users.profiles (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES users.tenants (id),
  email text NOT NULL,
  display_name text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  disabled_at timestamptz
);
CREATE UNIQUE INDEX profiles_tenant_email ON users.profiles (tenant_id, lower(email));
CREATE INDEX profiles_tenant_page ON users.profiles (tenant_id, created_at, id);

-- Paged by (created_at, id): millisecond precision so that a cursor (a JS Date) names a row exactly.
-- Row-level security: a request sees only the rows of the tenant set for its transaction.
ALTER TABLE users.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE users.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users.tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE users.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE users.profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users.profiles
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT ON users.tenants TO gatehouse_app;
GRANT SELECT, INSERT, UPDATE ON users.profiles TO gatehouse_app;
