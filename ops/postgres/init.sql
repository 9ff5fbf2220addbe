-- Run once by the postgres image when its data volume is new (docker-entrypoint-initdb.d).
-- Each service logs in as its own role, which owns its schema and has no rights on the
-- others'. Passwords equal the role names: change them (and the DATABASE_URLs in
-- docker-compose.yml) for anything but local use.
CREATE ROLE lifecycle LOGIN PASSWORD 'lifecycle';
CREATE ROLE ipam LOGIN PASSWORD 'ipam';
CREATE ROLE billing LOGIN PASSWORD 'billing';
CREATE ROLE reaper LOGIN PASSWORD 'reaper';
CREATE SCHEMA lifecycle AUTHORIZATION lifecycle;
CREATE SCHEMA ipam AUTHORIZATION ipam;
CREATE SCHEMA billing AUTHORIZATION billing;
CREATE SCHEMA reaper AUTHORIZATION reaper;
-- The migrations say CREATE SCHEMA IF NOT EXISTS, which needs the right to create schemas.
GRANT CREATE ON DATABASE cloudsim TO lifecycle, ipam, billing, reaper;
