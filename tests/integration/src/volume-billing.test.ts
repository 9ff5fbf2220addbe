import { randomUUID } from "node:crypto";
import { CreateVolumeCommand, DeleteVolumeCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { eventStreamName, volumeEventSubject } from "@cloudsim/shared";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { ec2Env, ec2Tenant } from "./ec2-helpers.ts";
import { useStack } from "./harness.ts";
import { ADMIN_KEY, type Keyed, keyed } from "./tenancy-helpers.ts";

const START = "2030-01-01T00:00:00.000Z";
const MONTH_MS = 730 * 3_600_000;

/** A clock that stands still between moves, so every amount below is exact; three billing replicas. */
const env = {
  ...ec2Env,
  CLOCK: "simulated",
  CLOCK_START: START,
  CLOCK_RATE: "0",
  BILLING_INTERVAL: "60s",
  VOLUME_RATE: "0.08",
};

describe("EBS volumes billed per GB-month", () => {
  const ctx = useStack({ env, replicas: { billing: 3 } });
  let tenant: { ec2: EC2Client; rest: Keyed };
  let volumeId: string;

  const advance = async (by: string) => {
    const res = await keyed(ctx.stack.url, ADMIN_KEY).post("/admin/clock", { advance: by });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const billingOf = async (rest: Keyed, id: string) => {
    const res = await rest.get(`/volumes/${id}/billing`);
    return { status: res.status, ...res.body };
  };
  const ledgerLines = async () => {
    const db = new pg.Client({ connectionString: ctx.stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query(
        "SELECT l.kind, l.amount::text FROM billing.ledger l JOIN billing.volumes v USING (volume_id) WHERE v.ec2_id = $1 ORDER BY l.id",
        [volumeId],
      );
      return rows;
    } finally {
      await db.end();
    }
  };

  it("bills 100 GB kept 730 hours at 0.08 as 8.00, to its owner only", async () => {
    tenant = await ec2Tenant(ctx.stack.url, "volume-billing");
    const created = await tenant.ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 100, VolumeType: "gp3" }),
    );
    volumeId = created.VolumeId ?? "";
    await advance("730h");

    expect(await billingOf(tenant.rest, volumeId)).toMatchObject({
      status: 200,
      volume_id: volumeId,
      volume_type: "gp3",
      size_gb: 100,
      rate: "0.080000",
      billable_seconds: MONTH_MS / 1000,
      amount: "8.000000",
      currency: "USD",
      billed_from: START,
      billed_until: null,
    });
    const summary = (await tenant.rest.get("/billing/summary")).body;
    expect(summary.volumes).toEqual({
      total: { amount: "8.000000", billable_seconds: MONTH_MS / 1000 },
      by_type: [{ volume_type: "gp3", amount: "8.000000", billable_seconds: MONTH_MS / 1000 }],
    });
    expect(summary.total.amount).toBe("0.000000");

    const other = await ec2Tenant(ctx.stack.url, "volume-billing-other");
    expect((await billingOf(other.rest, volumeId)).status).toBe(404);
    expect((await other.rest.get("/billing/summary")).body.volumes.total.amount).toBe("0.000000");
  });

  it("stops billing a volume when it starts deleting, and keeps its bill readable", async () => {
    await advance("365h");
    await tenant.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
    await advance("730h");
    const deletedAt = new Date(Date.parse(START) + 1.5 * MONTH_MS).toISOString();
    expect(await billingOf(tenant.rest, volumeId)).toMatchObject({
      status: 200,
      amount: "12.000000",
      billable_seconds: (1.5 * MONTH_MS) / 1000,
      billed_until: deletedAt,
    });
    expect((await tenant.rest.get("/billing/summary")).body.volumes.total.amount).toBe("12.000000");
  });

  it("bills a redelivered event once", async () => {
    const before = await ledgerLines();
    expect(before.map((l) => l.kind)).toContain("accrual");
    const prefix = ctx.stack.env.NATS_SUBJECT_PREFIX ?? "";
    const stream = eventStreamName({ prefix });
    const nc = await connect({ servers: inject("natsUrl") });
    try {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      let lastSeq = 0;
      for (const state of ["creating", "deleting"] as const) {
        const subject = prefix + volumeEventSubject(state);
        const stored = await jsm.streams.getMessage(stream, { last_by_subj: subject });
        expect(stored?.json<{ volume: { volume_id: string } }>().volume.volume_id).toBe(volumeId);
        // A new message id, so the stream takes it: billing must know the event by its own id.
        lastSeq = (await js.publish(subject, stored?.data ?? new Uint8Array(), { msgID: randomUUID() })).seq;
      }
      // A move of the clock waits until billing's consumers have taken every event.
      await advance("1m");
      const consumer = await jsm.consumers.info(stream, "billing-volumes");
      expect(consumer.delivered.stream_seq).toBeGreaterThanOrEqual(lastSeq);
      expect(consumer.num_pending + consumer.num_ack_pending).toBe(0);
    } finally {
      await nc.drain();
    }
    expect(await ledgerLines()).toEqual(before);
    expect((await billingOf(tenant.rest, volumeId)).amount).toBe("12.000000");
  });
});
