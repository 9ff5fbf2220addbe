import {
  type Bus,
  type Clock,
  type Db,
  type HandlerMetrics,
  instanceAttributes,
  instanceSpec,
} from "@cloudsim/shared";
import type { InstanceRepository, Visibility } from "../db/instances.ts";
import { setInstanceAttribute, userDataOf } from "./db.ts";

const scopeOf = (r: { tenant_id: string | null; region: string; visible_after: string }): Visibility => ({
  tenantId: r.tenant_id,
  region: r.region,
  visibleAfter: r.visible_after,
});

/** ModifyInstanceAttribute's changes and the attributes the instance view does not carry (user data). */
export function serveInstanceAttributes(
  bus: Bus,
  { db, instances }: { db: Db; instances: InstanceRepository },
  clock: Clock,
  metrics: HandlerMetrics,
) {
  bus.serve(
    instanceAttributes.modify,
    async ({ id, change, ...scope }, ctx) => {
      const [instance] = await instances.resolve(scopeOf(scope), [id]);
      if (!instance) throw new Error("resolve returned no instance");
      if (change.name === "instanceType") {
        if (instance.instance_type !== change.value)
          await instances.changeType(
            instance.id,
            change.value,
            instanceSpec(change.value).vcpus,
            ctx.requestId,
          );
      } else {
        await setInstanceAttribute(db, clock, instance.id, change, ctx.requestId);
      }
      return { instance_id: instance.instance_id };
    },
    metrics,
  );

  bus.serve(
    instanceAttributes.userData,
    async ({ id, ...scope }) => {
      const [instance] = await instances.resolve(scopeOf(scope), [id]);
      if (!instance) throw new Error("resolve returned no instance");
      return { instance_id: instance.instance_id, user_data: await userDataOf(db, instance.id) };
    },
    metrics,
  );
}
