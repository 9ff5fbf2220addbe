import pg from "pg";

/** The services that own a schema, each connecting as a role of the same name. */
export const schemaOwners = ["lifecycle", "ipam", "billing", "reaper"] as const;
export type SchemaOwner = (typeof schemaOwners)[number];

/**
 * Gives each service a login role that owns its schema and has no rights on the others', in
 * the database `adminUrl` points at; returns each service's URL. Roles are cluster-wide and
 * made once (parallel callers tolerate each other); the password is the role's name, which
 * suits throwaway and local clusters — Compose creates its roles in ops/postgres/init.sql.
 */
export async function ensureSchemaOwners(adminUrl: string): Promise<Record<SchemaOwner, string>> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const role of schemaOwners) {
      await admin.query(`DO $$ BEGIN
          CREATE ROLE ${role} LOGIN PASSWORD '${role}';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`);
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${role} AUTHORIZATION ${role}`);
      // Postgres checks the right to create before it sees that the schema exists, and the
      // migrations say CREATE SCHEMA IF NOT EXISTS; the role still has no rights on other schemas.
      await admin.query(
        `DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ${role}', current_database()); END $$`,
      );
      // A database from before roles (a local .data folder) hands its schema and tables over.
      await admin.query(`ALTER SCHEMA ${role} OWNER TO ${role}`);
      await admin.query(`DO $$ DECLARE t record; BEGIN
          FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = '${role}' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> '${role}'
          LOOP EXECUTE format('ALTER TABLE ${role}.%I OWNER TO ${role}', t.relname); END LOOP;
        END $$`);
    }
  } finally {
    await admin.end();
  }
  return Object.fromEntries(
    schemaOwners.map((role) => {
      const url = new URL(adminUrl);
      url.username = role;
      url.password = role;
      return [role, url.toString()];
    }),
  ) as Record<SchemaOwner, string>;
}
