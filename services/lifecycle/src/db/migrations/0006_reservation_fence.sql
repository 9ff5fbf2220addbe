-- ipam's reservation check may give up the address of a server lifecycle has not stored (it died, or
-- lost ipam's reply, between allocate and insert), and hand it to another server. A provision whose
-- insert was only slow must then never be stored with that address. The check and the insert meet on
-- an advisory lock of the server id: the insert holds it shared from its trigger to its commit;
-- abandon_server tries it exclusive ('pending' while an insert holds it), and once it has it, finds
-- the server committed or leaves a tombstone that the insert's trigger refuses. Never both.
CREATE TABLE "lifecycle"."abandoned_servers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"abandoned_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
-- Fails when two servers that have not ended share an address: terminate one of them first.
CREATE UNIQUE INDEX "servers_live_address_key" ON "lifecycle"."servers" USING btree ("ip_address") WHERE "lifecycle"."servers"."state" NOT IN ('terminated', 'error');--> statement-breakpoint
-- The advisory lock a server id's insert and abandon_server meet on: one of 1024, so an insert of any
-- size holds at most 1024 locks (one per id ran out of Postgres' lock table at 100,000 rows); two ids
-- that share one only make abandon_server answer 'pending' until the other's insert ends.
CREATE FUNCTION "lifecycle"."server_fence_key"(id uuid) RETURNS bigint IMMUTABLE LANGUAGE sql
  AS $$ SELECT hashtextextended('lifecycle.servers insert fence', 0) # (hashtext(id::text) & 1023) $$;--> statement-breakpoint
-- Once per statement, after its rows are written (uncommitted, so abandon_server does not see them):
-- takes the locks of the new ids, then refuses the statement if any of them has a tombstone. In READ
-- COMMITTED each statement in a plpgsql function reads a fresh snapshot, so a tombstone committed
-- while the insert waited for a lock is seen. Per statement rather than per row: a batch of 100
-- servers costs one call, not 100 (a row trigger cost 15 µs a row here, this one 3).
CREATE FUNCTION "lifecycle"."fence_new_servers"() RETURNS trigger VOLATILE LANGUAGE plpgsql AS $$
DECLARE
  abandoned uuid;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(key)
  FROM (SELECT DISTINCT lifecycle.server_fence_key(id) AS key FROM new_rows ORDER BY 1) AS keys;
  SELECT n.id INTO abandoned FROM new_rows n JOIN lifecycle.abandoned_servers a ON a.id = n.id LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'server % was abandoned', abandoned USING ERRCODE = 'CA001';
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
-- Statement triggers fire in name order: this one before servers_usage_insert, so an insert that
-- waits for its tenant's row lock already holds its fence and is 'pending', not given up.
CREATE TRIGGER "servers_fence_insert" AFTER INSERT ON "lifecycle"."servers"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "lifecycle"."fence_new_servers"();--> statement-breakpoint
-- What ipam's reservation check may do with the address of a server: 'exists' (keep it),
-- 'abandoned' (release it: the server can never be created now), or 'pending' (its insert is under
-- way: ask again). Never waits for the insert, so a stalled one holds up neither the check nor a
-- connection.
CREATE FUNCTION "lifecycle"."abandon_server"(server_id uuid) RETURNS text VOLATILE LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(lifecycle.server_fence_key(server_id)) THEN
    RETURN 'pending';
  END IF;
  IF EXISTS (SELECT 1 FROM lifecycle.servers WHERE id = server_id) THEN
    RETURN 'exists';
  END IF;
  INSERT INTO lifecycle.abandoned_servers (id) VALUES (server_id) ON CONFLICT DO NOTHING;
  RETURN 'abandoned';
END $$;
