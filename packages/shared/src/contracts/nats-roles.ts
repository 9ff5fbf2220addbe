import { billing } from "./billing.ts";
import { catchUps, clock } from "./clock.ts";
import type { Command } from "./command.ts";
import { elasticIps } from "./elastic-ips.ts";
import { instanceAttributes } from "./instance-attributes.ts";
import { instances } from "./instances.ts";
import { ipam } from "./ipam.ts";
import { keyPairs } from "./key-pairs.ts";
import { networkTags } from "./network-resources.ts";
import { reaper } from "./reaper.ts";
import { securityGroups, securityGroupUsers } from "./security-groups.ts";
import { lifecycle } from "./servers.ts";
import { eventSubjects } from "./stream-events.ts";
import { subnets } from "./subnets.ts";
import { keyRevokedSubject, tenants } from "./tenants.ts";
import { volumes } from "./volumes.ts";
import { vpcs } from "./vpcs.ts";

/** The networking commands ipam answers for the EC2 face. */
const networkCommands = [vpcs, subnets, securityGroups, elasticIps, networkTags].flatMap((group) =>
  Object.values(group),
);

/** Every command of the contracts; each is answered by the service it names. */
export const commands: readonly Command[] = [
  lifecycle,
  instances,
  instanceAttributes,
  keyPairs,
  volumes,
  tenants,
  ipam,
  vpcs,
  subnets,
  securityGroups,
  securityGroupUsers,
  elasticIps,
  networkTags,
  billing,
  reaper,
  clock,
  catchUps,
].flatMap((group) => Object.values(group));

/** A durable JetStream consumer on the events stream, shared by the replicas of the service that reads it. */
export interface DurableConsumer {
  durable: string;
  filter: string;
}

/**
 * What a service does on NATS besides answering its own commands (`commands` whose `service`
 * is its name). The NATS permissions are generated from this (nats-permissions.ts), so a
 * service can do nothing it does not declare here.
 */
export interface NatsRole {
  /** The commands it sends. */
  sends: readonly Command[];
  /** The events its outbox relay publishes to the stream (a filter of eventSubjects). */
  publishesEvents?: string;
  /** The durable consumers it reads (each stores what it gives up on as `dead.<durable>`); a service with any uses JetStream. */
  consumers: Record<string, DurableConsumer>;
  /** Core NATS subjects (after the deployment prefix) it publishes and subscribes to. */
  publishes?: readonly string[];
  subscribes?: readonly string[];
  /** It creates the events stream when it is missing (every service with an outbox or a consumer). */
  jetstream: boolean;
  /** It reads the events stream through short-lived ordered consumers of its own (GET /events). */
  tailsEvents?: boolean;
}

export const natsRoles = {
  gateway: {
    sends: [
      lifecycle.provision,
      lifecycle.action,
      lifecycle.get,
      lifecycle.list,
      lifecycle.logs,
      lifecycle.label,
      lifecycle.rename,
      ...Object.values(instances),
      ...Object.values(instanceAttributes),
      ...Object.values(keyPairs),
      ...Object.values(volumes),
      tenants.authenticate,
      tenants.awsCredentials,
      tenants.create,
      tenants.list,
      tenants.update,
      tenants.usage,
      tenants.createKey,
      tenants.revokeKey,
      ipam.pools,
      ...networkCommands,
      billing.usage,
      billing.ledger,
      billing.summary,
      billing.volumeUsage,
      reaper.status,
      clock.now,
      clock.advance,
    ],
    consumers: {},
    subscribes: [keyRevokedSubject],
    jetstream: false,
    tailsEvents: true,
  },
  lifecycle: {
    sends: [ipam.allocate, ipam.allocateMany, ipam.release, ...Object.values(catchUps)],
    publishesEvents: eventSubjects.server,
    consumers: {
      ipamLog: { durable: "lifecycle-ipam-log", filter: eventSubjects.ipam },
      billingLog: { durable: "lifecycle-billing-log", filter: eventSubjects.billing },
    },
    // Volume events go out through the same outbox relay as the servers'.
    publishes: [keyRevokedSubject, eventSubjects.volume],
    jetstream: true,
  },
  ipam: {
    sends: [lifecycle.abandon, securityGroupUsers.inUse],
    publishesEvents: eventSubjects.ipam,
    consumers: { serverEvents: { durable: "ipam-address-events", filter: eventSubjects.server } },
    jetstream: true,
  },
  billing: {
    sends: [],
    publishesEvents: eventSubjects.billing,
    consumers: {
      serverEvents: { durable: "billing-usage", filter: eventSubjects.server },
      volumeEvents: { durable: "billing-volumes", filter: eventSubjects.volume },
    },
    jetstream: true,
  },
  reaper: {
    sends: [lifecycle.action],
    consumers: { watch: { durable: "reaper-watch", filter: eventSubjects.server } },
    jetstream: true,
  },
} as const satisfies Record<string, NatsRole>;

/** A service that connects to NATS as a user of its own. */
export type NatsService = keyof typeof natsRoles;
export const natsServices = Object.keys(natsRoles) as NatsService[];
