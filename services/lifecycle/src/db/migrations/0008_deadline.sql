-- A write whose request gave up while it waited for its tenant rows stores nothing (issue 18).
CREATE OR REPLACE FUNCTION "lifecycle"."add_tenant_usage"(tenant_ids text[], servers integer[], vcpus integer[]) RETURNS void LANGUAGE plpgsql AS $$
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
  -- The tenant rows may have been waited for past the request's deadline (its writer set it for
  -- the transaction): its caller has been told the outcome is unknown, so nothing is kept.
  IF clock_timestamp() > to_timestamp(nullif(current_setting('cloudsim.deadline', true), '')::bigint / 1000.0) THEN
    RAISE EXCEPTION 'the request''s deadline passed' USING ERRCODE = 'CD001';
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'quota exceeded for tenant %', refused.id USING ERRCODE = 'CQ001', DETAIL = (
      CASE WHEN refused.added_servers > 0 AND refused.servers_in_use > refused.max_servers
      THEN json_build_object('tenant_id', refused.id, 'quota', 'max_servers', 'limit', refused.max_servers,
        'usage', refused.servers_in_use - refused.added_servers, 'requested', refused.added_servers)
      ELSE json_build_object('tenant_id', refused.id, 'quota', 'max_vcpus', 'limit', refused.max_vcpus,
        'usage', refused.vcpus_in_use - refused.added_vcpus, 'requested', refused.added_vcpus)
      END)::text;
  END IF;
END $$;
