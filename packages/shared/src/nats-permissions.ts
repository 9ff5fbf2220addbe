/**
 * nats-server's `authorization` for cloudsim: one user per service, allowed to publish and
 * subscribe only what the contracts say it does (contracts/nats-roles.ts). Compose runs the
 * file generated from this (ops/nats/cloudsim.conf), `make run` and the tests a server
 * configured by the same function, so the permissions the tests pass under are the ones deployed.
 */

import {
  commands,
  type NatsRole,
  type NatsService,
  natsRoles,
  natsServices,
} from "./contracts/nats-roles.ts";
import {
  clockBucketName,
  deadLetterStreamName,
  deadLetterSubject,
  eventStreamName,
  natsInboxPrefix,
} from "./nats-names.ts";

/** A subject prefix of any one token: each test file takes its own (`t1a2b3c4d5e.`) on one server. */
export const ANY_SUBJECT_PREFIX = "*.";

/** The environment variable nats-server reads a service's password from. */
export const natsPasswordVariable = (service: NatsService) => `NATS_${service.toUpperCase()}_PASSWORD`;

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer the requests it receives (it serves commands). */
  allowResponses: boolean;
}

/** What `service` may do, on subjects under `subjectPrefix` (NATS_SUBJECT_PREFIX, or ANY_SUBJECT_PREFIX). */
export function natsPermissions(service: NatsService, subjectPrefix: string): NatsPermissions {
  if (subjectPrefix !== ANY_SUBJECT_PREFIX && !/^([A-Za-z0-9_-]+\.)*$/.test(subjectPrefix))
    throw new Error(
      `subject prefix "${subjectPrefix}": tokens each followed by a dot, or ${ANY_SUBJECT_PREFIX}`,
    );
  const role: NatsRole = natsRoles[service];
  const on = (subject: string) => subjectPrefix + subject;
  // The streams are named after the prefix (eventStreamName), so any prefix means any stream name.
  const anyPrefix = subjectPrefix === ANY_SUBJECT_PREFIX;
  const stream = anyPrefix ? "*" : eventStreamName({ prefix: subjectPrefix });
  const deadLetters = deadLetterStreamName({ prefix: subjectPrefix });
  const consumers = Object.values(role.consumers);
  const answers = commands.filter((command) => command.service === service).map((c) => on(c.subject));
  // Only the JetStream API calls it makes: the stream's look-up, creation and change of replicas (ensureEventStream),
  // for each of its durable consumers creation, look-up, pulls and acknowledgements, and for a
  // service with consumers the dead-letter stream's look-up and creation and its dead letters.
  const jetstreamApi = role.jetstream
    ? [
        "$JS.API.INFO",
        `$JS.API.STREAM.INFO.${stream}`,
        `$JS.API.STREAM.CREATE.${stream}`,
        `$JS.API.STREAM.UPDATE.${stream}`,
        // With any prefix, the events stream's "*" names this one too.
        ...(consumers.length > 0 && !anyPrefix
          ? [
              `$JS.API.STREAM.INFO.${deadLetters}`,
              `$JS.API.STREAM.CREATE.${deadLetters}`,
              `$JS.API.STREAM.UPDATE.${deadLetters}`,
            ]
          : []),
        ...consumers.flatMap(({ durable, filter }) => [
          `$JS.API.CONSUMER.CREATE.${stream}.${durable}.${on(filter)}`,
          `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
          `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
          `$JS.ACK.${stream}.${durable}.>`,
          on(deadLetterSubject(durable)),
        ]),
      ]
    : [];
  return {
    // Once each: the clock and the events tail both use the JetStream account look-up.
    publish: unique([
      ...clockBucketApi(anyPrefix ? "*" : clockBucketName({ prefix: subjectPrefix })),
      ...role.sends.map((command) => on(command.subject)),
      ...(role.publishesEvents ? [on(role.publishesEvents)] : []),
      ...(role.publishes ?? []).map(on),
      ...jetstreamApi,
      ...(role.tailsEvents ? eventsTailApi(stream) : []),
    ]),
    subscribe: [`${natsInboxPrefix(service)}.>`, ...answers, ...(role.subscribes ?? []).map(on)],
    allowResponses: answers.length > 0,
  };
}

const unique = (subjects: string[]) => [...new Set(subjects)];

/**
 * Reading the events stream from a sequence on (GET /events): its look-up, and the ordered
 * consumers that read it (created, looked up, pulled from, deleted when the reader goes).
 */
function eventsTailApi(stream: string): string[] {
  return [
    "$JS.API.INFO",
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
  ];
}

/**
 * The simulated clock's key-value bucket (clock-store.ts), which every service opens, watches,
 * and may start or move: its stream's look-up and creation, reads of its entry, writes to it, and
 * the ordered consumers a watch makes (created, looked up, deleted on reset, flow-controlled).
 */
function clockBucketApi(bucket: string): string[] {
  const stream = bucket === "*" ? "*" : `KV_${bucket}`;
  return [
    "$JS.API.INFO",
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$KV.${bucket}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * The nats-server configuration: each service's user, its password read from the server's
 * environment (natsPasswordVariable), and its permissions. `anonymousUser` (tests only) lets a
 * client without credentials in as that user, with no restriction.
 */
export function natsAuthorizationConfig(options: { subjectPrefix: string; anonymousUser?: string }): string {
  const list = (subjects: string[]) => subjects.map((s) => `            ${JSON.stringify(s)}`).join("\n");
  const users = natsServices.map((service) => {
    const permissions = natsPermissions(service, options.subjectPrefix);
    return [
      "    {",
      `      user: ${JSON.stringify(service)}`,
      `      password: $${natsPasswordVariable(service)}`,
      "      permissions: {",
      `        publish: { allow: [\n${list(permissions.publish)}\n        ] }`,
      `        subscribe: { allow: [\n${list(permissions.subscribe)}\n        ] }`,
      ...(permissions.allowResponses ? ["        allow_responses: true"] : []),
      "      }",
      "    }",
    ].join("\n");
  });
  if (options.anonymousUser) users.push(`    { user: ${JSON.stringify(options.anonymousUser)} }`);
  return [
    "# Generated from packages/shared/src/contracts/nats-roles.ts by `npx tsx scripts/nats-config.ts`:",
    "# do not edit. One user per service, allowed only the subjects its contracts name; each",
    "# password comes from nats-server's environment (NATS_<SERVICE>_PASSWORD).",
    ...(options.subjectPrefix ? [`# Subject prefix: ${options.subjectPrefix}`] : []),
    "authorization {",
    "  users = [",
    users.join("\n"),
    "  ]",
    "}",
    ...(options.anonymousUser ? [`no_auth_user: ${JSON.stringify(options.anonymousUser)}`] : []),
    "",
  ].join("\n");
}
