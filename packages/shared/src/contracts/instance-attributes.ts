import { z } from "zod";
import { InstanceType, Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";
import { ShutdownBehavior } from "./instances.ts";
import { InstanceId } from "./servers.ts";
import { TenantScope } from "./tenants.ts";

/** An instance the EC2 API names: its tenant's (or every tenant's) in its region, terminated ones for a while. */
const InstanceRef = {
  tenant_id: TenantScope,
  region: Region,
  visible_after: z.iso.datetime({ offset: true }),
  id: z.string().max(100),
};

/** User data: base64, at most 16 KB once decoded, as EC2 allows. */
export const UserData = z.string().max(21_848);

/**
 * One attribute ModifyInstanceAttribute changes (EC2 changes one a call). instanceType, userData
 * and ebsOptimized change only while the instance is stopped.
 */
export const InstanceAttributeChange = z.discriminatedUnion("name", [
  z.object({ name: z.literal("instanceType"), value: InstanceType }),
  z.object({ name: z.literal("userData"), value: UserData.nullable() }),
  z.object({ name: z.literal("disableApiTermination"), value: z.boolean() }),
  z.object({ name: z.literal("disableApiStop"), value: z.boolean() }),
  z.object({ name: z.literal("instanceInitiatedShutdownBehavior"), value: ShutdownBehavior }),
  z.object({ name: z.literal("sourceDestCheck"), value: z.boolean() }),
  z.object({ name: z.literal("ebsOptimized"), value: z.boolean() }),
]);
export type InstanceAttributeChange = z.infer<typeof InstanceAttributeChange>;

/** Instance attributes beyond the instance view, answered by lifecycle. */
export const instanceAttributes = {
  /** Changes one attribute; CONFLICT when it changes only while stopped and the instance is not. */
  modify: defineCommand("lifecycle", "modify_instance_attribute", {
    request: z.object({ ...InstanceRef, change: InstanceAttributeChange }),
    reply: z.object({ instance_id: InstanceId }),
  }),
  /** The user data an instance was launched with (or given since), base64; null when none. */
  userData: defineCommand("lifecycle", "instance_user_data", {
    request: z.object(InstanceRef),
    reply: z.object({ instance_id: InstanceId, user_data: UserData.nullable() }),
  }),
};
