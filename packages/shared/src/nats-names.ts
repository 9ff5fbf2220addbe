/**
 * The names cloudsim gives its things on NATS, from a deployment's subject prefix. Pure, so what
 * only needs the names (the permissions, the launcher's nats-server) loads no NATS client.
 */

/** What a name is made from: the deployment's subject prefix (a Bus has it). */
interface Deployment {
  prefix: string;
}

/**
 * The inbox prefix of a NATS user: the replies to its requests come in under it, and the
 * permissions (nats-permissions.ts) let it subscribe to no other inbox.
 */
export const natsInboxPrefix = (user: string) => `_INBOX_${user}`;

/** A stream of this deployment: named after the subject prefix so deployments never share one. */
export const streamName = (bus: Deployment, name: string) =>
  `${bus.prefix.replace(/[^A-Za-z0-9_-]/g, "_")}${name}`;

/** One stream holds every event; its name follows the subject prefix so deployments never share it. */
export const eventStreamName = (bus: Deployment) => streamName(bus, "EVENTS");

/** The stream of the events a consumer gave up on (see consumeEvents), for an operator to inspect and replay. */
export const deadLetterStreamName = (bus: Deployment) => streamName(bus, "DEAD_LETTERS");

/** The subject (after the deployment prefix) a consumer's dead letters are stored under. */
export const deadLetterSubject = (durable: string) => `dead.${durable}`;

/** The key-value bucket that holds a deployment's simulated clock: named after the subject prefix. */
export const clockBucketName = (bus: Deployment) => streamName(bus, "clock");
