CREATE TABLE records.records (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  owner_id uuid NOT NULL,
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  body text NOT NULL CHECK (char_length(body) <= 20000),
  classification text NOT NULL CHECK (classification IN ('PUBLIC', 'INTERNAL', 'CONFIDENTIAL')),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE INDEX records_tenant_page ON records.records (tenant_id, created_at, id) WHERE archived_at IS NULL;
CREATE INDEX records_owner_page ON records.records (tenant_id, owner_id, created_at, id) WHERE archived_at IS NULL;

ALTER TABLE records.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE records.records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON records.records
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON records.records TO gatehouse_app;
