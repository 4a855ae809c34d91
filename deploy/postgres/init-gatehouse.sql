-- Gatehouse's roles and schemas, least privilege: run once per database by its superuser, with psql (docker-compose
-- mounts it into /docker-entrypoint-initdb.d; on Kubernetes it comes from the gatehouse-postgres-init ConfigMap).
-- Each service logs in as its own role, which owns its own schema and nothing else (its migrations run as it), and
-- serves requests as its own request role (gatehouse_<service>_app), which sees that schema only. No service role is a
-- superuser or may create roles, databases or other schemas. Passwords come from the environment:
-- AUTH_DB_PASSWORD, USERS_DB_PASSWORD, RECORDS_DB_PASSWORD, COMPLAINTS_DB_PASSWORD. Safe to run again.
\set ON_ERROR_STOP on
\getenv auth_password AUTH_DB_PASSWORD
\getenv users_password USERS_DB_PASSWORD
\getenv records_password RECORDS_DB_PASSWORD
\getenv complaints_password COMPLAINTS_DB_PASSWORD

-- Only the superuser creates schemas in this database.
REVOKE CREATE ON DATABASE :"DBNAME" FROM PUBLIC;

SELECT format('CREATE ROLE %I', service) FROM (VALUES ('gatehouse_auth'), ('gatehouse_users'), ('gatehouse_records'), ('gatehouse_complaints')) AS s (service)
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = service) \gexec
SELECT format('CREATE ROLE %I NOLOGIN NOBYPASSRLS', app) FROM (VALUES ('gatehouse_auth_app'), ('gatehouse_users_app'), ('gatehouse_records_app'), ('gatehouse_complaints_app')) AS s (app)
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) \gexec

ALTER ROLE gatehouse_auth LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD :'auth_password';
ALTER ROLE gatehouse_users LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD :'users_password';
ALTER ROLE gatehouse_records LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD :'records_password';
ALTER ROLE gatehouse_complaints LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD :'complaints_password';

GRANT gatehouse_auth_app TO gatehouse_auth;
GRANT gatehouse_users_app TO gatehouse_users;
GRANT gatehouse_records_app TO gatehouse_records;
GRANT gatehouse_complaints_app TO gatehouse_complaints;

CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION gatehouse_auth;
CREATE SCHEMA IF NOT EXISTS users AUTHORIZATION gatehouse_users;
CREATE SCHEMA IF NOT EXISTS records AUTHORIZATION gatehouse_records;
CREATE SCHEMA IF NOT EXISTS complaints AUTHORIZATION gatehouse_complaints;
