CREATE TABLE complaints.complaints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  subject text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 200),
  description text NOT NULL CHECK (char_length(description) <= 20000),
  status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'IN_PROGRESS', 'RESOLVED', 'CLOSED')),
  filed_by uuid NOT NULL,
  assignee_id uuid,
  related_record_id uuid,
  internal_notes text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaints_tenant_page ON complaints.complaints (tenant_id, created_at, id);
CREATE INDEX complaints_filer_page ON complaints.complaints (tenant_id, filed_by, created_at, id);

CREATE TABLE complaints.comments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  complaint_id uuid NOT NULL REFERENCES complaints.complaints (id),
  author_id uuid NOT NULL,
  body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX comments_complaint ON complaints.comments (tenant_id, complaint_id, created_at);

ALTER TABLE complaints.complaints ENABLE ROW LEVEL SECURITY;
ALTER TABLE complaints.complaints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON complaints.complaints
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE complaints.comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE complaints.comments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON complaints.comments
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON complaints.complaints TO gatehouse_app;
GRANT SELECT, INSERT ON complaints.comments TO gatehouse_app;
