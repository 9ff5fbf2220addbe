import {
  AppError,
  type Bus,
  type Clock,
  type HandlerMetrics,
  instances,
  MAX_SERVER_TAGS,
  type ServerState,
} from "@cloudsim/shared";
import { type LifecycleConfig, quotaDefaults } from "./config.ts";
import type { Visibility } from "./db/instances.ts";
import { performAction } from "./db/server-actions.ts";
import { decodeCursor, encodeCursor } from "./domain/cursor.ts";
import { isProtected, protection, refusal, verdictOf } from "./domain/ec2-actions.ts";
import { serveInstanceAttributes } from "./instance-attributes/handlers.ts";
import type { LaunchCatalogue } from "./launch.ts";
import type { Launcher } from "./launcher.ts";
import { type Repositories, runInstances } from "./run-instances.ts";

/** The most tags an instance holds (EC2's limit, and the REST API's). */
const MAX_TAGS = MAX_SERVER_TAGS;
/** How often an instance action is decided again when the instance changed under it. */
const MAX_ACTION_ATTEMPTS = 3;

type InstanceMove = { instance_id: string; previous_state: ServerState; state: ServerState };

interface InstanceDeps {
  config: LifecycleConfig;
  metrics: HandlerMetrics;
  catalogue: LaunchCatalogue;
  launcher: Launcher;
  /** The time of the actions' changes (and of the instances' times, through the repository). */
  clock: Clock;
}

/** The EC2 face's commands: servers as instances, reservations, tags, and the image catalogue. */
export function serveInstances(
  bus: Bus,
  repos: Repositories,
  { config, metrics, catalogue, launcher, clock }: InstanceDeps,
) {
  const { db, instances: view } = repos;
  const quota = quotaDefaults(config);

  bus.serve(instances.images, async () => ({ items: [...catalogue.images] }), metrics);

  bus.serve(instances.run, runInstances(bus, repos, launcher, config, catalogue, quota), metrics);

  bus.serve(
    instances.describe,
    async ({ ids, filters, limit, cursor, ...request }) => {
      const scope = scopeOf(request);
      if (ids) await view.resolve(scope, ids);
      const after =
        cursor === undefined ? undefined : decodeCursor(cursor, (key) => /^r-[0-9a-f]{17}$/.test(key));
      const page = await view.page(scope, { ids, filters }, after, limit);
      return { items: page.items, next_cursor: page.more && page.last ? encodeCursor(page.last) : null };
    },
    metrics,
  );

  bus.serve(
    instances.act,
    async ({ ids, action, ...request }, ctx) => {
      const found = await view.resolve(scopeOf(request), ids);
      const refused = found.find((instance) => verdictOf(action, instance.state) === "refused");
      if (refused) throw refusal(action, refused);
      const protectedOne = found.find(
        (instance) => verdictOf(action, instance.state) === "act" && isProtected(action, instance),
      );
      if (protectedOne) throw protection(action, protectedOne);
      // The state each was found in is its previous_state; when it changed before the write (a
      // provision completing), it is read again and the action decided again, a bounded few times.
      const actOn = async (instance: (typeof found)[number], attempt = 1): Promise<InstanceMove> => {
        const previous = instance.state;
        const verdict = verdictOf(action, previous);
        if (verdict === "refused") throw refusal(action, instance);
        if (verdict === "unchanged")
          return { instance_id: instance.instance_id, previous_state: previous, state: previous };
        try {
          const row = await performAction(db, instance.id, action, {
            tenantId: request.tenant_id,
            quota,
            actor: "user",
            requestId: ctx.requestId,
            delays: config,
            failPending: false,
            expectedState: previous,
            clock,
          });
          return {
            instance_id: instance.instance_id,
            previous_state: previous,
            state: row.state as ServerState,
          };
        } catch (err) {
          const changed = err instanceof AppError && err.code === "CONFLICT" && "changed_at" in err.details;
          if (!changed || attempt >= MAX_ACTION_ATTEMPTS) throw err;
          const [again] = await view.resolve(scopeOf(request), [instance.instance_id]);
          if (!again) throw err;
          return actOn(again, attempt + 1);
        }
      };
      const items = await Promise.all(found.map((instance) => actOn(instance)));
      ctx.log.info({ action, count: items.length }, "instance action accepted");
      return { items };
    },
    metrics,
  );

  bus.serve(
    instances.tag,
    async ({ ids, set, remove, ...request }) => {
      const found = await view.resolve(scopeOf(request), ids);
      const count = await view.retag(
        found.map((instance) => instance.id),
        set,
        remove,
        MAX_TAGS,
      );
      return { count };
    },
    metrics,
  );

  bus.serve(
    instances.tags,
    async ({ filters, limit, cursor, ...request }) => {
      const after =
        cursor === undefined
          ? undefined
          : tagCursor(decodeCursor(cursor, (key) => tagCursor(key) !== undefined));
      const rows = await view.tags(scopeOf(request), filters, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page,
        next_cursor: rows.length > limit && last ? encodeCursor(`${last.instance_id}\n${last.key}`) : null,
      };
    },
    metrics,
  );

  serveInstanceAttributes(bus, { db, instances: view }, clock, metrics);
}

/** The rows an EC2 request may see. */
const scopeOf = (r: { tenant_id: string | null; region: string; visible_after: string }): Visibility => ({
  tenantId: r.tenant_id,
  region: r.region,
  visibleAfter: r.visible_after,
});

/** A DescribeTags cursor: the last instance id and key, a line apart. */
function tagCursor(key: string): [string, string] | undefined {
  const at = key.indexOf("\n");
  return at > 0 && key.startsWith("i-") ? [key.slice(0, at), key.slice(at + 1)] : undefined;
}
