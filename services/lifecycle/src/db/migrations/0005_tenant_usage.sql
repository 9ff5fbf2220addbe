-- Existing servers get the vCPUs of their type from the catalogue as it stands at this migration
-- (packages/shared/src/contracts/catalogue.ts); new servers carry their own from then on.
ALTER TABLE "lifecycle"."servers" ADD COLUMN "vcpus" integer;--> statement-breakpoint
UPDATE "lifecycle"."servers" SET "vcpus" = CASE "type"
  WHEN 't2.medium' THEN 2 WHEN 't2.large' THEN 2 WHEN 'm5.large' THEN 2 WHEN 'c5.large' THEN 2
  WHEN 't2.xlarge' THEN 4 WHEN 'm5.xlarge' THEN 4 ELSE 1 END;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ALTER COLUMN "vcpus" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."tenants" ADD COLUMN "servers_in_use" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."tenants" ADD COLUMN "vcpus_in_use" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- What one server counts against its tenant: every server that is not terminated, and the vCPUs
-- of one on its way to running or running (the same states as vcpuStates in db/repository.ts).
CREATE FUNCTION "lifecycle"."servers_counted"(state text) RETURNS integer IMMUTABLE LANGUAGE sql
  AS $$ SELECT CASE WHEN state = 'terminated' THEN 0 ELSE 1 END $$;--> statement-breakpoint
CREATE FUNCTION "lifecycle"."vcpus_counted"(state text, vcpus integer) RETURNS integer IMMUTABLE LANGUAGE sql
  AS $$ SELECT CASE WHEN state IN ('provisioning', 'starting', 'running', 'rebooting', 'stopping') THEN vcpus ELSE 0 END $$;--> statement-breakpoint
-- Adds per-tenant deltas to the counters, then refuses the whole statement when a count that
-- grew now passes its limit: the tenant's own, else the default the writer set for its
-- transaction (cloudsim.max_servers / cloudsim.max_vcpus; a writer that sets none is not checked).
-- Tenants are locked in id order, so two transactions that change the same tenants never wait on
-- each other in a cycle; a tenant is locked only from here to the commit.
CREATE FUNCTION "lifecycle"."add_tenant_usage"(tenant_ids text[], servers integer[], vcpus integer[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  refused record;
BEGIN
  WITH d AS (
    SELECT u.tenant_id, sum(u.servers)::int AS servers, sum(u.vcpus)::int AS vcpus
    FROM unnest(tenant_ids, servers, vcpus) AS u(tenant_id, servers, vcpus)
    GROUP BY u.tenant_id HAVING sum(u.servers) <> 0 OR sum(u.vcpus) <> 0
  ), locked AS (
    SELECT t.id FROM lifecycle.tenants t WHERE t.id IN (SELECT tenant_id FROM d) ORDER BY t.id FOR UPDATE
  ), counted AS (
    UPDATE lifecycle.tenants t
    SET servers_in_use = t.servers_in_use + d.servers, vcpus_in_use = t.vcpus_in_use + d.vcpus
    FROM d WHERE t.id = d.tenant_id AND t.id IN (SELECT id FROM locked)
    RETURNING t.id, d.servers AS added_servers, d.vcpus AS added_vcpus, t.servers_in_use, t.vcpus_in_use,
      coalesce(t.max_servers, nullif(current_setting('cloudsim.max_servers', true), '')::int) AS max_servers,
      coalesce(t.max_vcpus, nullif(current_setting('cloudsim.max_vcpus', true), '')::int) AS max_vcpus
  )
  SELECT * INTO refused FROM counted
  WHERE (added_servers > 0 AND servers_in_use > max_servers) OR (added_vcpus > 0 AND vcpus_in_use > max_vcpus)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'quota exceeded for tenant %', refused.id USING ERRCODE = 'CQ001', DETAIL = (
      CASE WHEN refused.added_servers > 0 AND refused.servers_in_use > refused.max_servers
      THEN json_build_object('tenant_id', refused.id, 'quota', 'max_servers', 'limit', refused.max_servers,
        'usage', refused.servers_in_use - refused.added_servers, 'requested', refused.added_servers)
      ELSE json_build_object('tenant_id', refused.id, 'quota', 'max_vcpus', 'limit', refused.max_vcpus,
        'usage', refused.vcpus_in_use - refused.added_vcpus, 'requested', refused.added_vcpus)
      END)::text;
  END IF;
END $$;--> statement-breakpoint
-- One statement-level trigger per operation (transition tables allow one event each): every
-- write to servers, from any code path, keeps the counters exact in the same transaction.
CREATE FUNCTION "lifecycle"."count_tenant_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM lifecycle.add_tenant_usage(array_agg(tenant_id), array_agg(lifecycle.servers_counted(state)),
      array_agg(lifecycle.vcpus_counted(state, vcpus))) FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM lifecycle.add_tenant_usage(array_agg(tenant_id), array_agg(-lifecycle.servers_counted(state)),
      array_agg(-lifecycle.vcpus_counted(state, vcpus))) FROM old_rows;
  ELSE
    PERFORM lifecycle.add_tenant_usage(array_agg(tenant_id), array_agg(servers), array_agg(vcpus)) FROM (
      SELECT tenant_id, lifecycle.servers_counted(state) AS servers, lifecycle.vcpus_counted(state, vcpus) AS vcpus FROM new_rows
      UNION ALL
      SELECT tenant_id, -lifecycle.servers_counted(state), -lifecycle.vcpus_counted(state, vcpus) FROM old_rows
    ) AS changes;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "servers_usage_insert" AFTER INSERT ON "lifecycle"."servers"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "lifecycle"."count_tenant_usage"();--> statement-breakpoint
CREATE TRIGGER "servers_usage_update" AFTER UPDATE ON "lifecycle"."servers"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "lifecycle"."count_tenant_usage"();--> statement-breakpoint
CREATE TRIGGER "servers_usage_delete" AFTER DELETE ON "lifecycle"."servers"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "lifecycle"."count_tenant_usage"();--> statement-breakpoint
-- The counters of the servers that exist now.
UPDATE "lifecycle"."tenants" t SET "servers_in_use" = u.servers, "vcpus_in_use" = u.vcpus
FROM (
  SELECT tenant_id, sum(lifecycle.servers_counted(state))::int AS servers,
         sum(lifecycle.vcpus_counted(state, vcpus))::int AS vcpus
  FROM "lifecycle"."servers" GROUP BY tenant_id
) AS u WHERE t.id = u.tenant_id;
