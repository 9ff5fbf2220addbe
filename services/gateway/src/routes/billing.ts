import {
  BillingSummary,
  BillingSummaryQuery,
  type Bus,
  billing,
  Ledger,
  LedgerQuery,
  lifecycle,
  VolumeBillingUsage,
} from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { scopeOf } from "../auth.ts";
import { Problem } from "../errors.ts";
import { IdParams, isServerId } from "./server-id.ts";

export const billingRoutes =
  (bus: Bus): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/servers/:id/billing",
      {
        schema: {
          tags: ["billing"],
          summary: "A server's ledger: every line that changed its bill, oldest first, a page at a time",
          description: "billable_seconds and amount are the server's totals, over every page.",
          params: IdParams,
          querystring: LedgerQuery,
          response: { 200: Ledger, 400: Problem, 404: Problem, 503: Problem },
        },
      },
      async (request) => {
        const ctx = { requestId: request.id };
        // lifecycle decides whether the caller may see the server (another tenant's is 404).
        const [server, ledger] = await Promise.allSettled([
          bus.request(lifecycle.get, { id: request.params.id, tenant_id: scopeOf(request) }, ctx),
          // Only asked for once lifecycle knows the id (billing wants a UUID).
          isServerId(request.params.id)
            ? bus.request(billing.ledger, { server_id: request.params.id, ...request.query }, ctx)
            : Promise.reject(new Error("not a server id")),
        ]);
        if (server.status === "rejected") throw server.reason;
        if (ledger.status === "rejected") throw ledger.reason;
        return ledger.value;
      },
    );

    app.get(
      "/volumes/:id/billing",
      {
        schema: {
          tags: ["billing"],
          summary: "What an EBS volume has cost so far, current to the second",
          description:
            "Billed per GB-month (730 hours) from its creation until it starts deleting, attached or not; readable after it is gone. 404 for another tenant's volume, or one whose first event billing has not seen yet.",
          params: z.object({ id: z.string().max(100).describe("Volume id (vol-…) or UUID") }),
          response: { 200: VolumeBillingUsage, 400: Problem, 404: Problem, 503: Problem },
        },
      },
      (request) =>
        bus.request(
          billing.volumeUsage,
          { volume_id: request.params.id, tenant_id: scopeOf(request) },
          { requestId: request.id },
        ),
    );

    app.get(
      "/billing/summary",
      {
        schema: {
          tags: ["billing"],
          summary: "Billed totals per server, type, region and overall",
          description:
            "Sums the ledger lines whose usage time is in [from, to); open intervals count up to the last billing tick. by_server comes a page at a time; total, by_type and by_region are over every server; volumes sums the EBS volumes' lines apart.",
          querystring: BillingSummaryQuery,
          response: { 200: BillingSummary, 400: Problem, 503: Problem },
        },
      },
      (request) =>
        bus.request(
          billing.summary,
          { ...request.query, tenant_id: scopeOf(request) },
          { requestId: request.id },
        ),
    );
  };
