import { z } from "zod";
import { defineCommand } from "./command.ts";
import { TenantScope } from "./tenants.ts";

const Sweep = z.object({
  started_at: z.string(),
  finished_at: z.string(),
  dry_run: z.boolean(),
  candidates: z.number().int().describe("Idle servers found"),
  reaped: z.number().int().describe("Terminated (or, in a dry run, that would have been)"),
  spared: z.number().int().describe("Exempt by tag, or changed before lifecycle acted"),
  errors: z.number().int().describe("Terminates that failed (lifecycle did not answer); retried next sweep"),
});

export const ReaperStatus = z
  .object({
    dry_run: z.boolean(),
    idle_timeout_seconds: z.number(),
    interval_seconds: z.number(),
    exempt_tag: z.string().describe("key=value that protects a server"),
    last_sweep: Sweep.nullable().describe("With a tenant's key, the figures are of that tenant's servers"),
    totals: z.object({ sweeps: z.number().int(), reaped: z.number().int(), spared: z.number().int() }),
    watching: z.object({
      stopped: z.number().int().describe("Servers stopped now"),
      idle: z.number().int().describe("Of those, stopped for longer than IDLE_TIMEOUT"),
    }),
  })
  .meta({ id: "ReaperStatus" });

/** Commands answered by reaper. */
export const reaper = {
  /** The counts of one tenant's servers, or of all with ALL_TENANTS (the admin). */
  status: defineCommand("reaper", "status", {
    request: z.object({ tenant_id: TenantScope }),
    reply: ReaperStatus,
  }),
};
